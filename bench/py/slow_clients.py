"""Slow-body attack and probes, for bench/slow-clients.sh. 127.0.0.1 only, bounded in time.

N connections each announce a JSON body of Content-Length 60000 and send one byte every
INTERVAL seconds; a connection the service answers or closes is opened again after 1 s.
Meanwhile one probe every 100 ms alternates GET /health and a cached GET /products/ID, each
on a fresh connection with a 15 s timeout. Prints one RESULT line.
"""
import asyncio
import sys
import time

port, product, connections, interval, seconds = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                                  float(sys.argv[4]), float(sys.argv[5]))
statuses = {}
opened = 0
probes = []  # (path, seconds, status)


async def trickler(index):
    global opened
    end = time.monotonic() + seconds
    await asyncio.sleep(index * 0.01)  # spread the opening over 5 s for 500 connections
    while time.monotonic() < end:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            opened += 1
            writer.write(b"POST /products HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 60000\r\n\r\n")
            await writer.drain()
            status = "open-at-end"
            while time.monotonic() < end:
                try:
                    line = await asyncio.wait_for(reader.readline(), timeout=interval)
                    status = line[9:12].decode() if line.startswith(b"HTTP/1.1 ") else "closed"
                    break
                except asyncio.TimeoutError:
                    writer.write(b" ")
                    await writer.drain()
            statuses[status] = statuses.get(status, 0) + 1
            writer.close()
        except (ConnectionError, OSError):
            statuses["refused"] = statuses.get("refused", 0) + 1
        await asyncio.sleep(1)


async def probe(path):
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 15)
        writer.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 15)
        status = line[9:12].decode() if line else "closed"
        writer.close()
    except (asyncio.TimeoutError, ConnectionError, OSError):
        status = "timeout"
    probes.append((path, time.monotonic() - started, status))


async def prober():
    await asyncio.sleep(min(10.0, seconds / 4))  # let the attack build up first
    end = time.monotonic() + seconds - min(10.0, seconds / 4) - 1
    tasks = []
    n = 0
    while time.monotonic() < end:
        tasks.append(asyncio.create_task(probe("/health" if n % 2 == 0 else "/products/" + product)))
        n += 1
        await asyncio.sleep(0.1)
    await asyncio.gather(*tasks)


async def main():
    await asyncio.gather(prober(), *(trickler(i) for i in range(connections)))


asyncio.run(main())
latencies = sorted(p[1] for p in probes)
ok = [p for p in probes if p[2] == "200"]


def pct(q):
    return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")


over = sum(1 for p in probes if p[1] > 1.0 or p[2] != "200")
print("RESULT probes=%d ok=%d over_1s_or_failed=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f "
      "attack_connections=%d attack_answers=%s"
      % (len(probes), len(ok), over, pct(0.5), pct(0.99), (latencies[-1] * 1000) if latencies else float("nan"),
         opened, ",".join("%s:%d" % kv for kv in sorted(statuses.items()))))
