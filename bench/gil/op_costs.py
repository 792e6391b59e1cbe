# Per-operation costs of the thread machinery, in microseconds.
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def nothing():
    pass


N = 2000
start = time.perf_counter()
for _ in range(N):
    t = threading.Thread(target=nothing)
    t.start()
    t.join()
start_join = (time.perf_counter() - start) / N * 1e6

q = queue.Queue()
M = 20000


def consumer():
    for _ in range(M):
        q.get()


t = threading.Thread(target=consumer)
start = time.perf_counter()
t.start()
for i in range(M):
    q.put(i)
t.join()
handoff = (time.perf_counter() - start) / M * 1e6

with ThreadPoolExecutor(max_workers=2) as pool:
    pool.submit(nothing).result()
    start = time.perf_counter()
    for _ in range(N):
        pool.submit(nothing).result()
    task = (time.perf_counter() - start) / N * 1e6

print(f"thread start+join {start_join:.1f} us; queue hand-off {handoff:.1f} us; pool task {task:.1f} us")
