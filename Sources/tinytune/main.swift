print("tinytune: placeholder")
