import Chapter11Quantization
print("chapter 11Quantization: being written")
