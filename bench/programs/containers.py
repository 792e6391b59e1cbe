# Everyday container work: lists appended, searched, removed from, sliced and
# sorted; dicts filled, grouped into with setdefault, merged and compared;
# sets built, combined and copied.
def lists():
    total = 0
    for r in range(200):
        li = []
        for i in range(300):
            li.append((i * 7919) % 1000)
        for x in (5, 17, 500, 999):
            if x in li:
                total += li.index(x) + li.count(x)
                li.remove(x)
        li.sort()
        total += li[0] + li[-1] + len(li[10:50]) + (li == sorted(li))
        while li:
            total += li.pop()
    return total


def dicts():
    total = 0
    for r in range(100):
        d = {}
        for i in range(500):
            d[i] = i * 2
        groups = {}
        for i in range(500):
            groups.setdefault(i % 13, []).append(i)
        merged = dict(d)
        merged.update({i: -i for i in range(250, 750)})
        total += len(merged) + (merged == d) + len(groups[3]) + sum(d.values())
        for i in range(0, 500, 3):
            del d[i]
        total += len(d.copy())
    return total


def sets():
    total = 0
    for r in range(100):
        a = set(range(0, 2000, 2))
        b = set(range(0, 2000, 3))
        total += len(a | b) + len(a & b) + len(a - b) + len(a ^ b)
        c = a.copy()
        c.update(b)
        total += len(c) + (a <= c) + a.isdisjoint(b)
        for i in range(0, 2000, 5):
            c.discard(i)
        total += len(frozenset(c))
    return total


print(lists(), dicts(), sets())
