# itertools pipelines as programs write them: lazy streams chained,
# windowed, grouped, filtered and folded, with lambdas and generator
# expressions in some stages and operator/functools callables in others,
# and the combinatoric iterators enumerated. Prints checksums of each stage.
import operator
from functools import reduce, partial
from itertools import (accumulate, chain, combinations, combinations_with_replacement, compress, count, cycle,
                       dropwhile, filterfalse, groupby, islice, pairwise, permutations, product, repeat, starmap,
                       takewhile, tee, zip_longest)


def streams(n):
    # Running sums of a cycled pattern, windowed by pairwise, multiplied.
    sums = accumulate(islice(cycle(range(97)), n))
    return sum(starmap(operator.mul, pairwise(sums)))


def grouped(n):
    # Runs of equal keys, counted, the long ones kept.
    sizes = (sum(1 for _ in g) for _, g in groupby(range(n), key=lambda x: x // 7))
    return reduce(operator.add, filterfalse(partial(operator.gt, 7), sizes), 0)


def records(n):
    # Group sorted records by a field and summarise each group in Python.
    rows = sorted(((i * 7919) % 101, i) for i in range(n))
    out = 0
    for key, group in groupby(rows, key=operator.itemgetter(0)):
        first, *rest = group
        out += key * len(rest) + first[1]
    return out


def windows(n):
    # Two views of one stream through tee, zipped, masked and folded.
    a, b = tee(range(n))
    pairs = zip_longest(a, chain(repeat(0, 3), b), fillvalue=0)
    return sum(x * y for x, y in compress(pairs, cycle((1, 0, 1))))


def bounded(n):
    # takewhile/dropwhile over an infinite count.
    head = takewhile(lambda x: x < n, count(0, 3))
    tail = dropwhile(partial(operator.gt, n // 2), head)
    return sum(x for x in tail if x % 2)


def combinatorics(k):
    c = sum(1 for t in combinations(range(k), 4) if sum(t) % 5 == 0)
    r = sum(1 for _ in combinations_with_replacement(range(k // 2), 4))
    p = sum(t[0] * t[-1] for t in permutations(range(9), 5))
    q = sum(starmap(operator.mul, product(range(k), repeat=2)))
    return c, r, p, q


for _ in range(3):
    print(streams(150000), grouped(150000), records(60000), windows(150000), bounded(450000), combinatorics(34))
