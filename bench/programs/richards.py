# An OO task scheduler in the style of Richards: a handful of task
# objects (idle, worker, two handlers, two devices) pass packets through
# queues; the scheduler picks the highest-priority runnable task each
# step. Attribute reads and writes on instances and small method calls
# dominate.

IDLE, WORKER, HANDLER_A, HANDLER_B, DEVICE_A, DEVICE_B = range(6)
KIND_DEVICE, KIND_WORK = 0, 1


class Packet:
    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.count = 0
        self.data = [0] * 4

    def append_to(self, queue):
        self.link = None
        if queue is None:
            return self
        p = queue
        while p.link is not None:
            p = p.link
        p.link = self
        return queue


class Task:
    def __init__(self, sched, ident, priority, queue, state):
        self.sched = sched
        self.ident = ident
        self.priority = priority
        self.queue = queue
        self.waiting = state == "waiting"
        self.held = False
        self.has_packet = queue is not None
        self.link = sched.tasks
        sched.tasks = self
        sched.table[ident] = self

    def runnable(self):
        return not self.held and not (self.waiting and not self.has_packet)

    def take_packet(self):
        p = self.queue
        self.queue = p.link
        self.has_packet = self.queue is not None
        return p

    def add_packet(self, packet, current):
        if self.queue is None:
            self.queue = packet
            self.has_packet = True
            if self.priority > current.priority:
                return self
        else:
            self.queue = packet.append_to(self.queue)
        return current

    def step(self):
        packet = None
        if self.waiting and self.has_packet:
            packet = self.take_packet()
            self.waiting = False
        return self.run(packet)


class IdleTask(Task):
    def __init__(self, sched, ident, priority, queue, state, count):
        Task.__init__(self, sched, ident, priority, queue, state)
        self.seed = 1
        self.count = count

    def run(self, packet):
        s = self.sched
        self.count -= 1
        if self.count == 0:
            return s.hold_self()
        if self.seed & 1 == 0:
            self.seed >>= 1
            return s.release(DEVICE_A)
        self.seed = (self.seed >> 1) ^ 0xD008
        return s.release(DEVICE_B)


class WorkTask(Task):
    def __init__(self, sched, ident, priority, queue, state):
        Task.__init__(self, sched, ident, priority, queue, state)
        self.dest = HANDLER_A
        self.letter = 0

    def run(self, packet):
        s = self.sched
        if packet is None:
            return s.wait_self()
        self.dest = HANDLER_B if self.dest == HANDLER_A else HANDLER_A
        packet.ident = self.dest
        packet.count = 0
        data = packet.data
        for i in range(4):
            self.letter += 1
            if self.letter > 26:
                self.letter = 1
            data[i] = self.letter
        return s.queue_packet(packet)


class HandlerTask(Task):
    def __init__(self, sched, ident, priority, queue, state):
        Task.__init__(self, sched, ident, priority, queue, state)
        self.work = None
        self.devices = None

    def run(self, packet):
        s = self.sched
        if packet is not None:
            if packet.kind == KIND_WORK:
                self.work = packet.append_to(self.work)
            else:
                self.devices = packet.append_to(self.devices)
        work = self.work
        if work is not None:
            n = work.count
            if n < 4:
                dev = self.devices
                if dev is not None:
                    self.devices = dev.link
                    dev.count = work.data[n]
                    work.count = n + 1
                    return s.queue_packet(dev)
            else:
                self.work = work.link
                return s.queue_packet(work)
        return s.wait_self()


class DeviceTask(Task):
    def __init__(self, sched, ident, priority, queue, state):
        Task.__init__(self, sched, ident, priority, queue, state)
        self.pending = None

    def run(self, packet):
        s = self.sched
        if packet is None:
            p = self.pending
            if p is None:
                return s.wait_self()
            self.pending = None
            return s.queue_packet(p)
        self.pending = packet
        s.hold_count += 1
        return s.hold_self()


class Scheduler:
    def __init__(self):
        self.tasks = None
        self.table = [None] * 6
        self.current = None
        self.hold_count = 0
        self.queue_count = 0

    def hold_self(self):
        self.hold_count += 1
        self.current.held = True
        return self.current.link

    def wait_self(self):
        self.current.waiting = True
        return self.current

    def release(self, ident):
        t = self.table[ident]
        t.held = False
        if t.priority > self.current.priority:
            return t
        return self.current

    def queue_packet(self, packet):
        t = self.table[packet.ident]
        self.queue_count += 1
        packet.link = None
        packet.ident = self.current.ident
        return t.add_packet(packet, self.current)

    def run(self):
        t = self.tasks
        while t is not None:
            if t.runnable():
                self.current = t
                t = t.step()
            else:
                t = t.link


def build(count):
    s = Scheduler()
    IdleTask(s, IDLE, 1, None, "running", count)
    q = Packet(None, WORKER, KIND_WORK)
    q = Packet(q, WORKER, KIND_WORK)
    WorkTask(s, WORKER, 1000, q, "waiting")
    for ident, prio, base in ((HANDLER_A, 2000, DEVICE_A), (HANDLER_B, 3000, DEVICE_B)):
        q = Packet(None, base, KIND_DEVICE)
        q = Packet(q, base, KIND_DEVICE)
        q = Packet(q, base, KIND_DEVICE)
        HandlerTask(s, ident, prio, q, "waiting")
    DeviceTask(s, DEVICE_A, 4000, None, "waiting")
    DeviceTask(s, DEVICE_B, 5000, None, "waiting")
    return s


total = 0
for rep in range(8):
    s = build(25000 + rep)
    s.run()
    total += s.queue_count * 7 + s.hold_count
print(total)
