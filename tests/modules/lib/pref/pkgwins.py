print("module file")
