# 3 million method calls on one object.
class Counter:
    def __init__(self):
        self.count = 0

    def add(self, n):
        self.count += n


def run():
    c = Counter()
    for i in range(3000000):
        c.add(i)
    return c.count

print(run())
