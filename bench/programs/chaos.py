# Chaos game on a B-spline: points are objects with float fields, the
# spline is a class evaluating basis functions by de Boor's recursion,
# and each step moves the current point toward a random spline point
# with a random affine transformation. The random source is a small
# LCG so that both interpreters draw the same numbers.


class Rng:
    def __init__(self, seed):
        self.state = seed

    def random(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state / 2147483648.0


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def lerp(self, other, t):
        return Vec(self.x + (other.x - self.x) * t, self.y + (other.y - self.y) * t)

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)


class Spline:
    def __init__(self, points, degree, knots):
        if len(knots) != len(points) + degree + 1:
            raise ValueError("need len(points) + degree + 1 knots")
        self.points = points
        self.degree = degree
        self.knots = knots

    def domain(self):
        return self.knots[self.degree], self.knots[len(self.points)]

    def __call__(self, u):
        lo, hi = self.domain()
        if u < lo or u > hi:
            raise ValueError("outside the domain")
        p = self.degree
        knots = self.knots
        i = p
        while i < len(self.points) - 1 and knots[i + 1] <= u:
            i += 1
        d = [self.points[j + i - p] for j in range(p + 1)]
        for r in range(1, p + 1):
            for j in range(p, r - 1, -1):
                left = knots[j + i - p]
                span = knots[j + 1 + i - r] - left
                alpha = 0.0 if span == 0 else (u - left) / span
                d[j] = d[j - 1].lerp(d[j], alpha)
        return d[p]


class ChaosGame:
    def __init__(self, splines, rng):
        self.splines = splines
        self.rng = rng
        self.minx = min(p.x for s in splines for p in s.points)
        self.maxx = max(p.x for s in splines for p in s.points)
        self.miny = min(p.y for s in splines for p in s.points)
        self.maxy = max(p.y for s in splines for p in s.points)
        self.thickness = [1.0 / (i + 2) for i in range(len(splines))]

    def transform(self, point):
        rng = self.rng
        idx = int(rng.random() * len(self.splines))
        spline = self.splines[idx]
        lo, hi = spline.domain()
        target = spline(lo + (hi - lo) * rng.random())
        t = 0.5 + self.thickness[idx] * (rng.random() - 0.5)
        p = point.lerp(target, t)
        x = min(max(p.x, self.minx), self.maxx)
        y = min(max(p.y, self.miny), self.maxy)
        return Vec(x, y)

    def run(self, width, height, steps):
        grid = [[0] * width for _ in range(height)]
        p = Vec((self.minx + self.maxx) / 2, (self.miny + self.maxy) / 2)
        sx = (width - 1) / (self.maxx - self.minx)
        sy = (height - 1) / (self.maxy - self.miny)
        for _ in range(steps):
            p = self.transform(p)
            col = int((p.x - self.minx) * sx)
            row = int((p.y - self.miny) * sy)
            grid[row][col] += 1
        return grid


splines = [
    Spline([Vec(1.59, 0.46), Vec(1.61, 0.47), Vec(1.92, 0.80), Vec(2.23, 0.94),
            Vec(2.03, 1.21), Vec(1.73, 1.14), Vec(1.43, 0.68)], 3, [0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4]),
    Spline([Vec(2.49, 0.24), Vec(2.57, 0.23), Vec(2.50, 0.97)], 2, [0, 0, 0, 1, 1, 1]),
    Spline([Vec(2.01, 1.24), Vec(2.20, 1.19), Vec(2.71, 1.36), Vec(2.73, 1.10)], 3, [0, 0, 0, 0, 1, 1, 1, 1]),
]
game = ChaosGame(splines, Rng(1234))
grid = game.run(64, 64, 150000)
total = 0
for r, row in enumerate(grid):
    for c, v in enumerate(row):
        total += v * (r * 64 + c + 1)
print(total, sum(1 for row in grid for v in row if v))
