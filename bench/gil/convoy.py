# The convoy effect: how long do short blocking calls take while another
# thread computes? Prints the slowdown of 200 sleeps of 0.1 ms next to a
# CPU-bound thread (against the same alone), and the share of its solo
# throughput the CPU-bound thread keeps.
import threading
import time

N = 200


def sleeps():
    start = time.perf_counter()
    for _ in range(N):
        time.sleep(0.0001)
    return time.perf_counter() - start


def spin(stop, counter):
    n = 0
    while not stop.is_set():
        for _ in range(1000):
            n += 1
    counter.append(n)


def spin_for(seconds):
    stop = threading.Event()
    counter = []
    t = threading.Thread(target=spin, args=(stop, counter))
    t.start()
    time.sleep(seconds)
    stop.set()
    t.join()
    return counter[0]


alone = sleeps()
solo_rate = spin_for(0.3) / 0.3

stop = threading.Event()
counter = []
t = threading.Thread(target=spin, args=(stop, counter))
t.start()
time.sleep(0.05)
busy_start = time.perf_counter()
busy = sleeps()
busy_elapsed = time.perf_counter() - busy_start
stop.set()
t.join()
shared_rate = counter[0] / (busy_elapsed + 0.05)

print(f"convoy slowdown {busy / alone:.1f}x (per sleep {busy / N * 1000:.2f} ms, "
      f"alone {alone / N * 1000:.2f} ms); CPU thread kept {shared_rate / solo_rate * 100:.0f}% of its throughput")
