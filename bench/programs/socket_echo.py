# Socket echo round trips: a server thread echoes 20000 small messages a
# client thread sends one at a time over TCP on the loopback interface.
# Each round trip is two blocking calls per side, each releasing the GIL:
# what a request/response server does between its requests.
import socket
import threading

N = 20000
srv = socket.create_server(("127.0.0.1", 0))
srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def serve():
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with conn:
        while True:
            data = conn.recv(64)
            if not data:
                break
            conn.sendall(data)


t = threading.Thread(target=serve)
t.start()
total = 0
with socket.create_connection(srv.getsockname()) as c:
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(N):
        msg = b"%d" % i
        c.sendall(msg)
        got = b""
        while len(got) < len(msg):
            got += c.recv(64)
        total += len(got)
t.join()
srv.close()
print(total)
