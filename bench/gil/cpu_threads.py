# The article's CPU benchmark: 4 tasks of cpu_task(n), sequential and on
# 4 threads. Prints threaded/sequential (1.0x under a GIL, 0.5x is perfect
# parallelism on two cores).
import sys
import threading
import time


def cpu_task(n):
    return sum(i * i for i in range(n))


n = int(sys.argv[1]) if len(sys.argv) > 1 else 10**7
tasks = 4
start = time.perf_counter()
for _ in range(tasks):
    cpu_task(n)
sequential = time.perf_counter() - start
threads = [threading.Thread(target=cpu_task, args=(n,)) for _ in range(tasks)]
start = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
threaded = time.perf_counter() - start
print(f"threaded/sequential {threaded / sequential:.2f}x (sequential {sequential:.2f}s, threaded {threaded:.2f}s)")
