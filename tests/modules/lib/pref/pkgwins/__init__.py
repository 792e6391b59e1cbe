print("package wins")
