# Random playouts of Go on a 9x9 board: many small objects (points,
# groups), flood fills for liberties, captures, and a pseudo-random
# move choice from an LCG so both interpreters play the same games.

SIZE = 9
EMPTY, BLACK, WHITE = 0, 1, 2


class Rng:
    def __init__(self, seed):
        self.state = seed

    def below(self, n):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.state >> 8) % n


class Point:
    __slots__ = ("index", "color", "neighbours")

    def __init__(self, index):
        self.index = index
        self.color = EMPTY
        self.neighbours = []


class Board:
    def __init__(self):
        self.points = [Point(i) for i in range(SIZE * SIZE)]
        for p in self.points:
            r, c = divmod(p.index, SIZE)
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < SIZE and 0 <= cc < SIZE:
                    p.neighbours.append(self.points[rr * SIZE + cc])
        self.empties = set(range(SIZE * SIZE))
        self.captures = {BLACK: 0, WHITE: 0}
        self.ko = None

    def group(self, start):
        color = start.color
        stones = {start}
        liberties = set()
        todo = [start]
        while todo:
            p = todo.pop()
            for n in p.neighbours:
                if n.color == EMPTY:
                    liberties.add(n)
                elif n.color == color and n not in stones:
                    stones.add(n)
                    todo.append(n)
        return stones, liberties

    def legal(self, p, color):
        if p.color != EMPTY or p is self.ko:
            return False
        other = 3 - color
        for n in p.neighbours:
            if n.color == EMPTY:
                return True
        p.color = color
        try:
            for n in p.neighbours:
                if n.color == other and len(self.group(n)[1]) == 0:
                    return True
            return len(self.group(p)[1]) > 0
        finally:
            p.color = EMPTY

    def is_eye(self, p, color):
        for n in p.neighbours:
            if n.color != color:
                return False
        return True

    def play(self, p, color):
        p.color = color
        self.empties.discard(p.index)
        other = 3 - color
        captured = []
        for n in p.neighbours:
            if n.color == other:
                stones, libs = self.group(n)
                if not libs:
                    for s in stones:
                        s.color = EMPTY
                        self.empties.add(s.index)
                        captured.append(s)
        self.captures[color] += len(captured)
        self.ko = captured[0] if len(captured) == 1 else None

    def random_move(self, color, rng):
        candidates = sorted(self.empties)
        while candidates:
            i = rng.below(len(candidates))
            p = self.points[candidates[i]]
            candidates[i] = candidates[-1]
            candidates.pop()
            if not self.is_eye(p, color) and self.legal(p, color):
                return p
        return None

    def score(self):
        counts = {EMPTY: 0, BLACK: 0, WHITE: 0}
        for p in self.points:
            if p.color != EMPTY:
                counts[p.color] += 1
            else:
                around = {n.color for n in p.neighbours}
                if len(around) == 1:
                    counts[around.pop()] += 1
        return counts[BLACK] - counts[WHITE]


def playout(rng):
    board = Board()
    color = BLACK
    passes = 0
    moves = 0
    while passes < 2 and moves < 400:
        p = board.random_move(color, rng)
        if p is None:
            passes += 1
        else:
            passes = 0
            board.play(p, color)
        color = 3 - color
        moves += 1
    return board.score(), moves


rng = Rng(42)
wins = 0
total_moves = 0
margin = 0
for _ in range(150):
    s, m = playout(rng)
    wins += s > 0
    margin += s
    total_moves += m
print(wins, margin, total_moves)
