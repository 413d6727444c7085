import Chapter12QLoRA
print("chapter 12QLoRA: being written")
