# A program split into .py files: a package with __init__.py, relative
# imports and a circular import between two of its modules.
import sys
import os
from shapes import make, registry
from shapes.square import Square
import util.fmt as fmt

print(fmt.show(make("circle", 2)))
print(fmt.show(Square(3)))
print(sorted(registry.names()))
print(sys.path[0].endswith("/pyapp"), os.getcwd().endswith("/pyapp"))
print(__name__, __file__.endswith("pyapp/main.py"))
