# Per-operation costs of the process machinery: process start+join (ms),
# ProcessPoolExecutor task round trip, multiprocessing.Queue hand-off to
# another process, and a Value increment under its lock (microseconds).
import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor


def nothing():
    pass


def identity(x):
    return x


def consume(q, n):
    for _ in range(n):
        q.get()


if __name__ == "__main__":
    n = 200
    start = time.perf_counter()
    for _ in range(n):
        p = mp.Process(target=nothing)
        p.start()
        p.join()
    start_join = (time.perf_counter() - start) / n * 1e3

    with ProcessPoolExecutor(1) as pool:
        pool.submit(identity, 1).result()
        n = 2000
        start = time.perf_counter()
        for i in range(n):
            pool.submit(identity, i).result()
        task = (time.perf_counter() - start) / n * 1e6

    q = mp.Queue()
    n = 50000
    p = mp.Process(target=consume, args=(q, n))
    p.start()
    start = time.perf_counter()
    for i in range(n):
        q.put(i)
    p.join()
    handoff = (time.perf_counter() - start) / n * 1e6

    v = mp.Value("i", 0)
    n = 200000
    start = time.perf_counter()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    increment = (time.perf_counter() - start) / n * 1e6

    print(f"process start+join {start_join:.2f} ms; pool task {task:.1f} us; "
          f"queue hand-off {handoff:.1f} us; locked Value increment {increment:.2f} us")
