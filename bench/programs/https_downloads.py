# HTTPS downloads: http_downloads over TLS. A local ThreadingHTTPServer
# whose socket is wrapped by an SSLContext serves 16 KiB files; a pool of
# WORKERS threads (argument 1, default 8) fetches 200 of them with
# urllib.request.urlopen, one TLS connection (a full handshake) per request.
# The handshakes and the encryption run in OpenSSL without the GIL, so more
# threads finish sooner even with the GIL on. Uses the test certificates.
import os
import ssl
import sys
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

N = 200
WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 8
BODY = b"x" * 16384
CERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "ssl", "certs")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass


client = ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))


def download(url):
    with urllib.request.urlopen(url, timeout=30, context=client) as response:
        return len(response.read())


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(os.path.join(CERTS, "server.pem"), os.path.join(CERTS, "server.key"))
server.socket = tls.wrap_socket(server.socket, server_side=True)
serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
serving.start()
url = "https://localhost:%d/file" % server.server_address[1]
with ThreadPoolExecutor(max_workers=WORKERS) as pool:
    total = sum(pool.map(download, [url] * N))
server.shutdown()
server.server_close()
serving.join()
print(total)
