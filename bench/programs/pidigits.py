# Digits of pi by Gibbons' unbounded spigot: big-integer multiply,
# add and floor division on numbers that grow to thousands of digits.


def pi_digits(count):
    q, r, t, k, n, l = 1, 0, 1, 1, 3, 3
    out = []
    while len(out) < count:
        if 4 * q + r - t < n * t:
            out.append(n)
            q, r, n = 10 * q, 10 * (r - n * t), (10 * (3 * q + r)) // t - 10 * n
        else:
            q, r, t, k, n, l = (q * k, (2 * q + r) * l, t * l, k + 1,
                                (q * (7 * k + 2) + r * l) // (t * l), l + 2)
    return out


digits = pi_digits(5000)
s = "".join(map(str, digits))
print(s[:20], s[-20:], sum(digits))
