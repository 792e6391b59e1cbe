# Word counting: string building, splitting and dict updates.
def run():
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    counts = {}
    for i in range(200000):
        key = words[i % 8] + "-" + str(i % 1000)
        counts[key] = counts.get(key, 0) + 1
    text = " ".join(k for k in counts)
    total = 0
    for part in text.split(" "):
        total += len(part)
    return len(counts), total

print(run())
