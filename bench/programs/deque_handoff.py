# deque hand-off: a producer thread appends and a consumer thread poplefts
# the same deque (the queue pattern of thread pools and BFS frontiers),
# then a single-threaded sliding window (append + popleft on a bounded
# deque) and a rotate-heavy round robin.
import threading
from collections import deque

N = 500000
box = deque()
got = []


def producer():
    for i in range(N):
        box.append(i)
    box.append(None)


def consumer():
    total = 0
    pop = box.popleft
    while True:
        try:
            v = pop()
        except IndexError:
            continue
        if v is None:
            break
        total += v
    got.append(total)


threads = [threading.Thread(target=consumer), threading.Thread(target=producer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(got[0] == N * (N - 1) // 2)

window = deque(maxlen=64)
acc = 0
for i in range(3000000):
    window.append(i)
    if i % 1000 == 0:
        acc += window[0] + window[-1]
print(acc)

ring = deque(range(100))
s = 0
for i in range(500000):
    ring.rotate(3)
    x = ring.popleft()
    s += x
    ring.append(x)
print(s)
