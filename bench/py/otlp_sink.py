"""An OTLP/HTTP collector stand-in for bench/tracing.sh: accepts POST /v1/traces on
127.0.0.1:PORT, answers 200 with an empty ExportTraceServiceResponse (an empty protobuf
message is zero bytes), and discards the body. Prints a count of requests and bytes on
SIGTERM; with PATHS_FILE, appends each request's path to it as it comes (bench/aot-settings.sh
asks whether spans arrived after each start). Usage: python3 otlp_sink.py PORT [PATHS_FILE]"""

import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

requests = 0
received = 0


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global requests, received
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        requests += 1
        received += length
        if len(sys.argv) > 2:
            with open(sys.argv[2], "a") as paths:
                paths.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def stop(*_):
    print(f"otlp sink: {requests} requests, {received} bytes", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
