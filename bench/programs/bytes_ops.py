# Bytes work over a few MB: build a CSV-like blob, split it into lines and
# fields, search it, join it back, hex-encode and decode it, and fill and
# mutate a bytearray.

def make_blob(rows):
    parts = []
    for i in range(rows):
        parts.append(b'%d,item%d,%d.%02d,tag%d' % (i, i % 977, i % 1000, i % 100, i % 13))
    return b'\n'.join(parts)


blob = make_blob(120000)
print(len(blob))

total = 0
fields = 0
for _ in range(3):
    for line in blob.split(b'\n'):
        cols = line.split(b',')
        fields += len(cols)
        total += int(cols[0])
print(fields, total)

hits = 0
pos = blob.find(b'tag7')
while pos != -1:
    hits += 1
    pos = blob.find(b'tag7', pos + 1)
print(hits, blob.count(b'item5'), blob.rfind(b'item976'))

joined = b'|'.join(blob.split(b','))
print(len(joined), joined[:24])

h = blob[:1000000].hex()
back = bytes.fromhex(h)
print(len(h), back == blob[:1000000])

up = blob.upper().replace(b'ITEM', b'I')
print(len(up), up.startswith(b'0,I0'))

ba = bytearray()
for i in range(200000):
    ba.append(i & 255)
ba.extend(blob[:100000])
ba[10:20] = b'x' * 10
del ba[:5]
print(len(ba), sum(ba[:1000]), ba.count(b'x'))
