print("found through MINIPATH", __name__)
