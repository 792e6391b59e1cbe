# HTTP downloads on 8 threads: a local ThreadingHTTPServer serves 16 KiB
# files from memory and a pool of 8 threads fetches 400 of them with
# urllib.request.urlopen, one connection per request. Measures the whole
# HTTP stack (http.server, socketserver, http.client, urllib) on real
# sockets, with the GIL released during every blocking call.
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

N = 400
BODY = b"x" * 16384


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass


def download(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return len(response.read())


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
serving.start()
url = "http://127.0.0.1:%d/file" % server.server_address[1]
with ThreadPoolExecutor(max_workers=8) as pool:
    total = sum(pool.map(download, [url] * N))
server.shutdown()
server.server_close()
serving.join()
print(total)
