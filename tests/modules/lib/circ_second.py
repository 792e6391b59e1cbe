import circ_first
print("second sees first partially:", hasattr(circ_first, "DONE"))
try:
    from circ_first import DONE
except ImportError as e:
    print(str(e).replace(circ_first.__file__, "FILE"), e.name)
