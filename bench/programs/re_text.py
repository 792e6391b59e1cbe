# Regular expressions over a few MB of text: findall of words, numbers,
# e-mail-like tokens and key=value pairs with groups; sub with a template,
# with group references and with a function; split; finditer over lines;
# the same over a text with non-ASCII letters (code point positions).
import re

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
         "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi"]


def make_text(lines):
    out = []
    for i in range(lines):
        w = WORDS[i % 16]
        out.append("%s%d %s=%d user%d@example.org, %s %d.%02d; %s\n"
                   % (w, i % 97, WORDS[(i * 7) % 16], i, i % 1000, w.upper(), i % 1000, i % 100, WORDS[(i * 3) % 16]))
    return "".join(out)


text = make_text(60000)
print(len(text))

words = re.findall(r"\b[a-z]+\b", text)
print(len(words), words[:3])
nums = re.findall(r"\d+(?:\.\d+)?", text)
print(len(nums), nums[-2:])
mails = re.findall(r"(\w+)@(\w+)\.org", text)
print(len(mails), mails[5])
pairs = re.findall(r"(?P<k>[a-z]+)=(?P<v>\d+)", text)
print(len(pairs), pairs[-1])

s1, n1 = re.subn(r"(\w+)@(\w+)\.org", r"<\2 at \1>", text)
print(n1, len(s1), s1[:60].split("\n")[0])
s2 = re.sub(r"\d+", "#", text)
print(len(s2))
s3 = re.sub(r"[A-Z]{2,}", lambda m: m.group().lower(), text[:400000])
print(len(s3), s3.count("alpha"))
parts = re.split(r"[;,]\s*", text)
print(len(parts))
lines = 0
for m in re.finditer(r"^(\w+) .*$", text, re.M):
    lines += len(m.group(1))
print(lines)
ic = re.findall(r"(?i)ALPHA\d+", text)
print(len(ic))

uni = text[:1000000].replace("a", "ä").replace("e", "é")
uw = re.findall(r"\w+", uni)
print(len(uw), uw[:2])
print(len(re.sub(r"é+", "e", uni)))
