# The article's CPU benchmark on processes: 4 tasks of cpu_task(n),
# sequential and on a ProcessPoolExecutor of 4 workers. Prints
# processes/sequential (0.5x is perfect parallelism on two cores; issue 5's
# target is at most 0.6 there).
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def cpu_task(n):
    return sum(i * i for i in range(n))


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10**7
    tasks = 4
    start = time.perf_counter()
    for _ in range(tasks):
        cpu_task(n)
    sequential = time.perf_counter() - start
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=tasks) as executor:
        list(executor.map(cpu_task, [n] * tasks))
    processes = time.perf_counter() - start
    print(f"processes/sequential {processes / sequential:.2f}x (sequential {sequential:.2f}s, processes {processes:.2f}s)")
