# The article's cpu_task: sum of squares through a generator expression.
def cpu_task(n):
    return sum(i * i for i in range(n))

print(cpu_task(10**7))
