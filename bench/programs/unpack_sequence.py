# Sequence unpacking and packing: tuples and lists into many targets,
# swaps, starred targets, and unpacking in for loops.


def run(n):
    t = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    lst = [10, 20, 30, 40, 50]
    acc = 0
    for i in range(n):
        a, b, c, d, e, f, g, h, k, m = t
        a, b = b, a
        p, q, r, s, u = lst
        x, y, z = i, a, p
        first, *rest = lst
        *init, last = t
        pair = (x, y)
        y, x = pair
        acc += a + b + c + d + e + f + g + h + k + m + p + q + r + s + u + x + y + z
        acc += first + len(rest) + last + len(init)
        acc &= 0xFFFFFFF
    pairs = [(i, i * 2) for i in range(1000)]
    for _ in range(n // 2000):
        for i, j in pairs:
            acc += i - j
    return acc


print(run(1000000))
