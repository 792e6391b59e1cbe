# A Manager's costs: starting it until its first object is made (mini's
# Manager() returns before the forked server runs: the listening socket is
# ready before the fork, so the first request is where a start is paid for;
# CPython's waits for the server to report), and one DictProxy
# d[k] = v round trip (a message to the server and its reply). Runs
# unchanged with python3 and mini: bench/README.md, "Managers".
import sys
import time
from multiprocessing import Manager

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000

if __name__ == "__main__":
    starts = []
    for _ in range(3):
        t = time.perf_counter()
        m = Manager()
        m.dict()
        starts.append(time.perf_counter() - t)
        m.shutdown()
    with Manager() as m:
        d = m.dict()
        t = time.perf_counter()
        for i in range(N):
            d[i % 64] = i
        per_set = (time.perf_counter() - t) / N
        print("manager start + first object %.1f ms (best of 3), d[k] = v %.1f us" % (min(starts) * 1e3, per_set * 1e6))
