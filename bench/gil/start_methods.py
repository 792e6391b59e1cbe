# What each start method costs: start+join of an empty Process, and a
# Pool(2) made, given 100 small tasks by map() and closed (the workers'
# start included), for fork, spawn and forkserver (whose server is started
# before the timing). Times in ms.
import multiprocessing as mp
import time


def nothing():
    pass


def small(x):
    return x + 1


def per_call(ctx, reps):
    ctx.Process(target=nothing).start()     # warm-up (starts the fork server)
    start = time.perf_counter()
    for _ in range(reps):
        p = ctx.Process(target=nothing)
        p.start()
        p.join()
    return (time.perf_counter() - start) / reps * 1000


def pool_map(ctx, reps):
    start = time.perf_counter()
    for _ in range(reps):
        with ctx.Pool(2) as pool:
            pool.map(small, range(100), chunksize=1)
    return (time.perf_counter() - start) / reps * 1000


if __name__ == "__main__":
    out = []
    for method, reps in (("fork", 40), ("spawn", 8), ("forkserver", 20)):
        ctx = mp.get_context(method)
        out.append("%s start+join %.1f ms" % (method, per_call(ctx, reps)))
        out.append("%s Pool(2) map 100 %.1f ms" % (method, pool_map(ctx, max(2, reps // 4))))
    print("; ".join(out))
