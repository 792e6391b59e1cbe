# Imports circle, which imports this module back while it is only
# partially initialized: circle reads `registry.register` at call time.
_kinds = {}


def register(name):
    def deco(cls):
        _kinds[name] = cls
        return cls
    return deco


def lookup(name):
    return _kinds[name]


def names():
    return list(_kinds)


from . import circle  # noqa: E402 (the circular import)
