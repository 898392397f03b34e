"""Top frames of the CPU samples in a JFR recording, by self and by inclusive share.

Reads the text of `jfr print --stack-depth 256 --events jdk.ExecutionSample FILE` on stdin
and prints, out of all samples: the frames most often on top of a stack (self), the
frames most often anywhere in a stack (inclusive, counted once per sample), the samples
per thread kind, and the inclusive share of a few named parts of a hit.
Usage: jfr print ... | python3 jfr_top.py [TOP]
"""
import collections
import re
import sys

import jfr_samples

TOP = int(sys.argv[1]) if len(sys.argv) > 1 else 25

# Named parts of a hit: a sample counts for a part when any frame of its stack matches.
PARTS = [
    ("Redis script (EVALSHA via ScriptExecutor)", r"org\.springframework\.data\.redis\.core\.script\."),
    ("RedisTemplate.execute (connection + proxy)", r"RedisTemplate\.(execute|createRedisConnectionProxy)|RedisConnectionUtils\."),
    ("Lettuce command dispatch (caller side)", r"io\.lettuce\.core\.(AbstractRedisAsyncCommands|RedisChannelHandler|protocol\.DefaultEndpoint)"),
    ("Micrometer observation of Lettuce commands", r"io\.lettuce\.core\.tracing\.|MicrometerTracing"),
    ("Micrometer observations (all)", r"io\.micrometer\.observation\."),
    ("Spring MVC request observation filter", r"ServerHttpObservationFilter"),
    ("Netty event loop (Lettuce I/O thread)", r"io\.netty\.channel\.nio\.NioEventLoop\.run|io\.netty\.channel\.SingleThreadIoEventLoop"),
    ("Logging (SLF4J/Logback)", r"^ch\.qos\.logback\.|^org\.slf4j\."),
    ("Circuit breaker (Resilience4j)", r"io\.github\.resilience4j\."),
    ("ProductCache.read", r"com\.example\.catalog\.cache\.ProductCache\.read$"),
    ("Tomcat socket I/O (NioEndpoint)", r"org\.apache\.tomcat\.util\.net\.NioEndpoint"),
    ("Spring MVC dispatch (DispatcherServlet.doDispatch)", r"DispatcherServlet\.doDispatch"),
    ("Jackson", r"^tools\.jackson\.|^com\.fasterxml\.jackson\."),
    ("JIT compiler / GC (no Java stack)", r"^<no java frames>$"),
]

# (thread, frames top first); a sample taken outside Java code counts as "<no java frames>"
samples = [(x.thread, x.frames or ["<no java frames>"]) for x in jfr_samples.read(sys.stdin)]

n = len(samples)
if n == 0:
    sys.exit("no jdk.ExecutionSample events")


def kind(name):
    if name.startswith("http-nio") or name.startswith("tomcat-handler") or name == "" or name.startswith("virtual"):
        return "request threads (Tomcat)"
    if "lettuce" in name:
        return "Lettuce I/O threads"
    return "other threads"


def pct(c):
    return "%5.1f%%" % (100.0 * c / n)


self_counts = collections.Counter(jfr_samples.short(f[0]) for _, f in samples)
incl_counts = collections.Counter()
for _, f in samples:
    incl_counts.update(set(jfr_samples.short(x) for x in f))
kinds = collections.Counter(kind(t) for t, _ in samples)

print("samples: %d (jdk.ExecutionSample, all threads)" % n)
for k, c in kinds.most_common():
    print("  %s %s" % (pct(c), k))
print()
print("parts of a hit (inclusive: share of samples with such a frame anywhere in the stack)")
for label, pattern in PARTS:
    rx = re.compile(pattern)
    c = sum(1 for _, f in samples if any(rx.search(x) for x in f))
    print("  %s  %s" % (pct(c), label))
print()
print("top %d frames by self (on top of the stack)" % TOP)
for f, c in self_counts.most_common(TOP):
    print("  %s  %s" % (pct(c), f))
print()
print("top %d frames by inclusive share (anywhere in the stack), below the thread roots" % TOP)
roots = re.compile(r"^(Thread\.run|Thread\.runWith|TaskThread\$WrappingRunnable\.run|ThreadPoolExecutor(\$Worker)?\.(run|runWorker)|"
                   r"FastThreadLocalRunnable\.run|ThreadExecutorMap\$\d+\.run|SingleThreadEventExecutor\$\d+\.run|"
                   r"VirtualThread\.run|Continuation\.(enter|enter0|run)|VirtualThread\$VThreadContinuation\$\d+\.run)$")
shown = 0
for f, c in incl_counts.most_common():
    if roots.match(f):
        continue
    print("  %s  %s" % (pct(c), f))
    shown += 1
    if shown >= TOP:
        break
