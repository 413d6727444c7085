print("exercises: placeholder")
