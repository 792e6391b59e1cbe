print("pref from .py")
