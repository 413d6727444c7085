import Chapter10Formats
print("chapter 10Formats: being written")
