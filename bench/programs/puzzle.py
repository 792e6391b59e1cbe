# A puzzle solver: Sudoku by constraint propagation (eliminate a digit,
# assign when one place or one digit remains) and depth-first search on
# the square with the fewest candidates. Dicts of strings, sets, string
# building, recursion.

DIGITS = "123456789"
ROWS = "ABCDEFGHI"
SQUARES = [r + c for r in ROWS for c in DIGITS]
UNITS = ([[r + c for c in DIGITS] for r in ROWS] +
         [[r + c for r in ROWS] for c in DIGITS] +
         [[r + c for r in rs for c in cs] for rs in ("ABC", "DEF", "GHI") for cs in ("123", "456", "789")])
UNITS_OF = {s: [u for u in UNITS if s in u] for s in SQUARES}
PEERS = {s: sorted(set(x for u in UNITS_OF[s] for x in u) - {s}) for s in SQUARES}


def assign(values, s, d):
    for other in values[s].replace(d, ""):
        if not eliminate(values, s, other):
            return False
    return True


def eliminate(values, s, d):
    if d not in values[s]:
        return True
    values[s] = values[s].replace(d, "")
    left = values[s]
    if not left:
        return False
    if len(left) == 1:
        for p in PEERS[s]:
            if not eliminate(values, p, left):
                return False
    for unit in UNITS_OF[s]:
        places = [q for q in unit if d in values[q]]
        if not places:
            return False
        if len(places) == 1 and not assign(values, places[0], d):
            return False
    return True


def parse(grid):
    values = {s: DIGITS for s in SQUARES}
    for s, ch in zip(SQUARES, grid):
        if ch in DIGITS and not assign(values, s, ch):
            return None
    return values


def search(values):
    if values is None:
        return None
    if all(len(values[s]) == 1 for s in SQUARES):
        return values
    _, s = min((len(values[s]), s) for s in SQUARES if len(values[s]) > 1)
    for d in values[s]:
        trial = dict(values)
        if assign(trial, s, d):
            found = search(trial)
            if found is not None:
                return found
    return None


PUZZLES = [
    "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
    "52...6.........7.13...........4..8..6......5...........418.........3..2...87.....",
    "6.....8.3.4.7.................5.4.7.3..2.....1.6.......2.....5.....8.6......1....",
    "48.3............71.2.......7.5....6....2..8.............1.76...3.....4......5....",
    "....14....3....2...7..........9...3.6.1.............8.2.....1.4....5.6.....7.8...",
    "......52..8.4......3...9...5.1...6..2..7........3.....6...1..........7.4.......3.",
    "6.2.5.........3.4..........43...8....1....2........7..5..27...........81...6.....",
    ".524.........7.1..............8.2...3.....6...9.5.....1.6.3...........897........",
]

checksum = 0
for rep in range(6):
    for k, puzzle in enumerate(PUZZLES):
        solved = search(parse(puzzle))
        row = "".join(solved[s] for s in SQUARES)
        checksum = (checksum * 7 + int(row[:9]) + int(row[-9:]) * (k + 1)) % 1000000007
print(checksum)
