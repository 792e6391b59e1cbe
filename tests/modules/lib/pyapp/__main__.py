import sys
from shapes import make
print("run as folder:", make("square", 2).area(), __name__, sys.argv[0])
