# HTTP downloads on 8 threads: a local ThreadingHTTPServer serves 16 KiB
# files from memory and a pool of 8 threads fetches 400 of them with
# urllib.request.urlopen, one connection per request. Measures the whole
# HTTP stack (http.server, socketserver, http.client, urllib) on real
# sockets, with the GIL released during every blocking call.
# https_downloads.py runs the same over TLS through download_all().
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"x" * 16384


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass


def download_all(n, workers, tls_server=None, tls_client=None):
    """Serves BODY, fetches it n times on workers threads, returns the bytes
    received; with SSLContexts given, over HTTPS."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls_server is not None:
        server.socket = tls_server.wrap_socket(server.socket, server_side=True)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    serving.start()
    scheme, host = ("https", "localhost") if tls_server is not None else ("http", "127.0.0.1")
    url = "%s://%s:%d/file" % (scheme, host, server.server_address[1])

    def download(url):
        with urllib.request.urlopen(url, timeout=30, context=tls_client) as response:
            return len(response.read())

    with ThreadPoolExecutor(max_workers=workers) as pool:
        total = sum(pool.map(download, [url] * n))
    server.shutdown()
    server.server_close()
    serving.join()
    return total


if __name__ == "__main__":
    print(download_all(400, 8))
