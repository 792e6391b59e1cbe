# Spectral norm of an infinite matrix: nested loops of function calls
# and float arithmetic, with zip and generator expressions.


def a(i, j):
    ij = i + j
    return 1.0 / (ij * (ij + 1) // 2 + i + 1)


def times(u):
    n = len(u)
    return [sum(a(i, j) * uj for j, uj in zip(range(n), u)) for i in range(n)]


def times_transposed(u):
    n = len(u)
    return [sum(a(j, i) * uj for j, uj in zip(range(n), u)) for i in range(n)]


def at_times(u):
    return times_transposed(times(u))


def spectral_norm(n):
    u = [1.0] * n
    for _ in range(10):
        v = at_times(u)
        u = at_times(v)
    vbv = sum(ue * ve for ue, ve in zip(u, v))
    vv = sum(ve * ve for ve in v)
    return (vbv / vv) ** 0.5


print("%.9f" % spectral_norm(300))
