# Generator pipelines: a chain of generator functions and generator
# expressions feeding each other, a recursive tree walk with yield from,
# and a generator driven by send().


def numbers(n):
    i = 0
    while i < n:
        yield i
        i += 1


def evens(src):
    for x in src:
        if x % 2 == 0:
            yield x


def scaled(src, k):
    for x in src:
        yield x * k


def windows(src, size):
    buf = []
    for x in src:
        buf.append(x)
        if len(buf) == size:
            yield tuple(buf)
            del buf[0]


class Tree:
    def __init__(self, left, value, right):
        self.left = left
        self.value = value
        self.right = right


def build(lo, hi):
    if lo >= hi:
        return None
    mid = (lo + hi) // 2
    return Tree(build(lo, mid), mid, build(mid + 1, hi))


def walk(node):
    if node is not None:
        yield from walk(node.left)
        yield node.value
        yield from walk(node.right)


def averager():
    total = 0
    count = 0
    avg = None
    while True:
        x = yield avg
        total += x
        count += 1
        avg = total // count


def run():
    acc = 0
    for w in windows(scaled(evens(numbers(300000)), 3), 4):
        acc += w[0] - w[3]
    acc += sum(x * x for x in numbers(200000) if x & 3 == 1)
    tree = build(0, 2 ** 15)
    for _ in range(4):
        acc += sum(walk(tree))
    avg = averager()
    next(avg)
    for i in range(200000):
        acc += avg.send(i)
    return acc


print(sum(run() for _ in range(4)))
