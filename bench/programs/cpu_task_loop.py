# The article's cpu_task written as a for loop (the total outgrows 64 bits).
def cpu_task(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

print(cpu_task(10**7))
