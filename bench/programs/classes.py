# Class-heavy code: a diamond of mixins with cooperative super() calls,
# user-defined data descriptors (validated fields), a cached non-data
# descriptor, properties, classmethods and __slots__ records.


class Field:
    def __set_name__(self, owner, name):
        self.slot = "_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj.__dict__[self.slot]

    def __set__(self, obj, value):
        if value < 0:
            raise ValueError("negative")
        obj.__dict__[self.slot] = value


class Base:
    def weight(self):
        return 1

    def describe(self):
        return ["Base"]


class Sized(Base):
    def weight(self):
        return super().weight() + 2

    def describe(self):
        return ["Sized"] + super().describe()


class Priced(Base):
    def weight(self):
        return super().weight() * 3

    def describe(self):
        return ["Priced"] + super().describe()


class Item(Sized, Priced):
    size = Field()
    price = Field()

    def __init__(self, size, price):
        self.size = size
        self.price = price

    @property
    def total(self):
        return self.size * self.price

    @classmethod
    def make(cls, n):
        return cls(n % 7, n % 11)

    def weight(self):
        return super().weight() + 1


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm1(self):
        return abs(self.x) + abs(self.y)


def run(n):
    acc = 0
    for i in range(n):
        item = Item.make(i)
        acc += item.total + item.weight() + item.size
        item.price = i % 5
        acc += item.price
        p = Point(i, -i)
        acc += p.norm1()
        if i % 1000 == 0:
            acc += len(item.describe())
    return acc


print(run(300000))
print([k.__name__ for k in Item.__mro__])
