# json: dumps and loads of a 3 MB document of records (dicts, lists,
# strings with escapes and non-ASCII text, ints, floats), compact and
# indented, and back.
import json


def make_doc(n):
    tags = ["red", "green", "blue", "caf\u00e9", "na\u00efve", "quote\"d", "tab\tbed", "\u65e5\u672c"]
    records = []
    for i in range(n):
        records.append({
            "id": i,
            "name": "record-" + str(i),
            "score": i * 0.37 + 1.0 / (i + 3),
            "ratio": -i / 7.0,
            "active": i % 3 == 0,
            "parent": None if i % 5 else i // 5,
            "tags": [tags[i % 8], tags[(i * 3) % 8], tags[(i * 5) % 8]],
            "point": {"x": i % 101, "y": (i * 7) % 103, "z": [i % 11, 2.5, -3]},
            "note": "line one\nline two \\ " + str(i * i),
        })
    return {"version": 3, "records": records}


def run():
    doc = make_doc(16000)
    total = 0
    for _ in range(4):
        text = json.dumps(doc)
        total += len(text)
        back = json.loads(text)
        total += len(back["records"])
    pretty = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)
    again = json.loads(pretty)
    total += len(pretty) + len(again["records"])
    assert again == back == doc
    return len(text), total, back["records"][12345]["score"]


print(run())
