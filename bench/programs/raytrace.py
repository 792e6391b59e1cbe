# A small ray tracer: a vector class with operator overloading, spheres
# and a plane, Lambert and specular shading, shadows and one reflection.
import math


class Vec:
    __slots__ = ("x", "y", "z")

    def __init__(self, x, y, z):
        self.x = x
        self.y = y
        self.z = z

    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y, self.z + o.z)

    def __sub__(self, o):
        return Vec(self.x - o.x, self.y - o.y, self.z - o.z)

    def __mul__(self, k):
        return Vec(self.x * k, self.y * k, self.z * k)

    def dot(self, o):
        return self.x * o.x + self.y * o.y + self.z * o.z

    def length(self):
        return math.sqrt(self.dot(self))

    def normalized(self):
        return self * (1.0 / self.length())

    def reflect(self, normal):
        return self - normal * (2 * self.dot(normal))


class Ray:
    def __init__(self, origin, direction):
        self.origin = origin
        self.direction = direction.normalized()

    def at(self, t):
        return self.origin + self.direction * t


class Sphere:
    def __init__(self, centre, radius, colour, shine):
        self.centre = centre
        self.radius = radius
        self.colour = colour
        self.shine = shine

    def hit(self, ray):
        oc = ray.origin - self.centre
        b = oc.dot(ray.direction)
        c = oc.dot(oc) - self.radius * self.radius
        disc = b * b - c
        if disc < 0:
            return None
        root = math.sqrt(disc)
        t = -b - root
        if t > 1e-6:
            return t
        t = -b + root
        return t if t > 1e-6 else None

    def normal_at(self, p):
        return (p - self.centre).normalized()


class Plane:
    def __init__(self, point, normal, colour, shine):
        self.point = point
        self.normal = normal.normalized()
        self.colour = colour
        self.shine = shine

    def hit(self, ray):
        d = ray.direction.dot(self.normal)
        if abs(d) < 1e-9:
            return None
        t = (self.point - ray.origin).dot(self.normal) / d
        return t if t > 1e-6 else None

    def normal_at(self, p):
        return self.normal


class Scene:
    def __init__(self, objects, light, ambient):
        self.objects = objects
        self.light = light
        self.ambient = ambient

    def nearest(self, ray):
        best = None
        best_t = float("inf")
        for obj in self.objects:
            t = obj.hit(ray)
            if t is not None and t < best_t:
                best, best_t = obj, t
        return best, best_t

    def trace(self, ray, depth):
        obj, t = self.nearest(ray)
        if obj is None:
            return Vec(0.1, 0.1, 0.2)
        p = ray.at(t)
        n = obj.normal_at(p)
        to_light = (self.light - p).normalized()
        colour = obj.colour * self.ambient
        shadow, st = self.nearest(Ray(p, to_light))
        if shadow is None or st > (self.light - p).length():
            lambert = max(n.dot(to_light), 0.0)
            colour = colour + obj.colour * lambert
            spec = max(to_light.reflect(n).dot(ray.direction), 0.0) ** 20
            colour = colour + Vec(1.0, 1.0, 1.0) * (spec * obj.shine)
        if depth > 0 and obj.shine > 0:
            bounce = Ray(p, ray.direction.reflect(n))
            colour = colour + self.trace(bounce, depth - 1) * obj.shine
        return colour


def render(scene, width, height):
    eye = Vec(0.0, 1.0, -4.0)
    total = 0
    for j in range(height):
        for i in range(width):
            x = (i - width / 2) / width
            y = (height / 2 - j) / height
            c = scene.trace(Ray(eye, Vec(x, y, 1.0)), 2)
            r = min(int(c.x * 255), 255)
            g = min(int(c.y * 255), 255)
            b = min(int(c.z * 255), 255)
            total = (total * 31 + r * 65536 + g * 256 + b) % 1000000007
    return total


scene = Scene(
    [Sphere(Vec(0.0, 1.0, 1.0), 1.0, Vec(0.9, 0.2, 0.2), 0.3),
     Sphere(Vec(-1.8, 0.6, 2.0), 0.6, Vec(0.2, 0.8, 0.2), 0.1),
     Sphere(Vec(1.6, 0.5, 0.5), 0.5, Vec(0.2, 0.3, 0.9), 0.5),
     Plane(Vec(0.0, 0.0, 0.0), Vec(0.0, 1.0, 0.0), Vec(0.6, 0.6, 0.6), 0.2)],
    Vec(-3.0, 5.0, -3.0), 0.1)
print(render(scene, 200, 160))
