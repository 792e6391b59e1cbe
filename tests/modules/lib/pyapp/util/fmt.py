def show(shape):
    return "%s area %s" % (type(shape).__name__, shape.area())
