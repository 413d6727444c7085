print("chapters: placeholder")
