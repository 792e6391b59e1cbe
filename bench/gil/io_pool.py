# Waiting on threads: 5 one-second sleeps on 3 pool workers (2 s expected),
# and 1000 threads that each sleep one second (about 1 s expected).
import threading
import time
from concurrent.futures import ThreadPoolExecutor

start = time.perf_counter()
with ThreadPoolExecutor(max_workers=3) as pool:
    list(pool.map(time.sleep, [1] * 5))
pool_time = time.perf_counter() - start

start = time.perf_counter()
threads = [threading.Thread(target=time.sleep, args=(1,)) for _ in range(1000)]
for t in threads:
    t.start()
for t in threads:
    t.join()
many_time = time.perf_counter() - start
print(f"5 sleeps on 3 workers {pool_time:.2f}s; 1000 sleeping threads {many_time:.2f}s")
