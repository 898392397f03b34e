"""Fires READERS concurrent GETs of one product, spread over the given ports in turn, all at once.

Usage: stampede.py ID READERS PORT[,PORT...] [TIMEOUT_S]
Each reader connects first; then all send together (a barrier). Prints one line per reader:
"port status ms x_cache version", where ms is the time from the common start to the reader's
answer, status 0 means no answer (connection refused or reset: an instance killed), and then a
line "START <epoch ms>" with the common start.
"""
import http.client
import json
import sys
import threading
import time

product, readers, ports = int(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3].split(",")]
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
barrier = threading.Barrier(readers + 1)
results = [None] * readers
start = [0.0]


def reader(i):
    port = ports[i % len(ports)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.connect()
    except OSError:
        conn = None
    barrier.wait()
    if conn is None:
        results[i] = (port, 0, 0.0, "-", "-")
        return
    try:
        conn.request("GET", "/products/%d" % product)
        response = conn.getresponse()
        body = response.read()
        ms = (time.monotonic() - start[0]) * 1000
        version = "-"
        if response.status == 200:
            version = str(json.loads(body).get("version"))
        results[i] = (port, response.status, ms, response.getheader("X-Cache") or "-", version)
    except (OSError, http.client.HTTPException):
        results[i] = (port, 0, (time.monotonic() - start[0]) * 1000, "-", "-")
    finally:
        conn.close()


threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(readers)]
for thread in threads:
    thread.start()
start[0] = time.monotonic()
epoch_ms = int(time.time() * 1000)
barrier.wait()
for thread in threads:
    thread.join(timeout + 5)
for result in results:
    if result is None:
        print("0 0 0 - -")
    else:
        print("%d %d %.1f %s %s" % result)
print("START %d" % epoch_ms)
