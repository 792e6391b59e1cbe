# HTTPS downloads: http_downloads over TLS. A local ThreadingHTTPServer
# whose socket is wrapped by an SSLContext serves 16 KiB files; a pool of
# WORKERS threads (argument 1, default 8) fetches 200 of them with
# urllib.request.urlopen, one TLS connection (a full handshake) per request.
# The handshakes and the encryption run in OpenSSL without the GIL, so more
# threads finish sooner even with the GIL on. Uses the test certificates.
import os
import ssl
import sys

from http_downloads import download_all

WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 8
CERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "ssl", "certs")

server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server.load_cert_chain(os.path.join(CERTS, "server.pem"), os.path.join(CERTS, "server.key"))
client = ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))
print(download_all(200, WORKERS, server, client))
