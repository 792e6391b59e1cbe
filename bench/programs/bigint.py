# Big integers growing: factorial and Fibonacci numbers with thousands of digits.
def run():
    f = 1
    for i in range(1, 1501):
        f *= i
    a, b = 0, 1
    for i in range(20000):
        a, b = b, a + b
    return len(str(f)), a % 1000000007

print(run())
