WHO = "py"
