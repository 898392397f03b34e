"""CPU time of one process's threads between two snapshots, by kind of thread.

A snapshot is `for d in /proc/PID/task/*; do printf '%s\\t%s\\t%s\\n' "${d##*/}" "$(cat $d/comm)"
"$(sed 's/^.*) //' $d/stat | awk '{print $12+$13}')"; done` (thread id, name, utime+stime in clock
ticks). Prints the CPU ms of each kind (request threads, Lettuce, JIT compilers, GC, ...) and,
last, "java_ms=N": the CPU of the threads that run Java code (not the JIT, GC, VM or JFR's own
threads), for bench/py/jfr_mix.py.
Usage: python3 proc_threads.py BEFORE AFTER [CLOCK_TICKS_PER_SECOND]
"""
import collections
import re
import sys

HZ = int(sys.argv[3]) if len(sys.argv) > 3 else 100
NOT_JAVA = re.compile(r"^(GC Thread|G1 |C1 Comp|C2 Comp|VM Thread|VM Periodic|JFR |Sweeper|Service Thread)")


def load(path):
    threads = {}
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 3 and parts[2]:
            threads[parts[0]] = (parts[1], int(parts[2]))
    return threads


def kind(name):
    if name.startswith("http-nio") or name.startswith("tomcat"):
        return "request threads (Tomcat)"
    if "lettuce" in name:
        return "Lettuce I/O threads"
    if name.startswith("GC Thread") or name.startswith("G1 "):
        return "GC (G1)"
    if "Compiler" in name or name.startswith("C1 ") or name.startswith("C2 "):
        return "JIT compilers"
    return re.sub(r"[-#]?\d+$", "", name)


before, after = load(sys.argv[1]), load(sys.argv[2])
kinds = collections.Counter()
java = 0
for tid, (name, ticks) in after.items():
    used = ticks - before.get(tid, (name, 0))[1]
    kinds[kind(name)] += used
    if not NOT_JAVA.match(name):
        java += used
total = sum(kinds.values())
print("JVM CPU over the recording: %.0f ms, by thread" % (total * 1000 / HZ))
for k, used in kinds.most_common(12):
    print("  %-40s %8.0f ms %5.1f%%" % (k, used * 1000 / HZ, 100.0 * used / total if total else 0))
print("java_ms=%.0f" % (java * 1000 / HZ))
