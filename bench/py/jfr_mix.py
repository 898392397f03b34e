"""Attributes the CPU samples of a recording of the 95/5 mix (bench/wrk/mix.lua) to causes.

Reads the text of `jfr print --stack-depth 256 --events jdk.CPUTimeSample FILE` (JDK 25's
CPU-time sampler, which also samples threads inside native code such as SQLite's JNI calls)
or of `--events jdk.ExecutionSample` (Java code only) on stdin. Every sample goes to the first
category whose rule matches (thread name, then frames anywhere in the stack); a PUT's own
samples are split further by the innermost matching step. Prints each category's share of all
samples and, when given the CPU milliseconds of the JVM's Java threads over the recording and
the number of PUTs, CPU ms per PUT.
Usage: jfr print ... | python3 jfr_mix.py [JAVA_THREADS_CPU_MS PUTS]
"""
import collections
import re
import sys

import jfr_samples

CPU_MS = float(sys.argv[1]) if len(sys.argv) > 2 else None
PUTS = float(sys.argv[2]) if len(sys.argv) > 2 else None


def has(frames, pattern):
    rx = re.compile(pattern)
    return any(rx.search(f) for f in frames)


# A PUT's steps, by the frames of the step's call: the first rule (in this order) whose
# pattern matches a frame of the stack wins, so nested steps come before the steps that
# contain them.
PUT_STEPS = [
    ("logging (Logback/SLF4J)", r"^ch\.qos\.logback\.|^org\.slf4j\."),
    ("Redis: provisional marker in the transaction (Lua)", r"ProductInvalidations\.prepare(Invalidation)?$"),
    ("Redis: final marker after commit (Lua)", r"ProductInvalidations\.(invalidate|mark)$"),
    ("Redis: page generation bump", r"ProductPageCache\.invalidateAll$"),
]


def put_step(frames):
    """frames: top first. The PUT's step of one sample."""
    for label, pattern in PUT_STEPS:
        if has(frames, pattern):
            return label
    sqlite = has(frames, r"^org\.sqlite\.")
    if has(frames, r"findLockedById$|ProductService\.findLocked$"):
        return "findLockedById: SQLite (JDBC+native)" if sqlite else "findLockedById: Hibernate/JPA/Spring Data"
    if has(frames, r"ProductRepository\.(update|updateReturning)$|ProductUpdatesImpl\.update$"):
        return "UPDATE ... RETURNING: SQLite (JDBC+native)" if sqlite else "UPDATE ... RETURNING: repository + pgjdbc"
    if has(frames, r"AbstractPlatformTransactionManager\.(commit|processCommit)$"):
        return "commit: SQLite (JDBC+native)" if sqlite else "commit: Hibernate/Spring (flush check, sync, cleanup)"
    if has(frames, r"saveAndFlush$|SessionImpl\.flush$"):
        return "saveAndFlush (UPDATE): SQLite (JDBC+native)" if sqlite else "saveAndFlush: Hibernate flush/dirty check/Spring Data"
    if has(frames, r"(AbstractPlatformTransactionManager\.getTransaction|JpaTransactionManager\.doBegin)$"):
        return "begin: SQLite BEGIN IMMEDIATE + pool" if sqlite or has(frames, r"hikari") else "begin: Hibernate/Spring (session, tx)"
    if has(frames, r"ProductWriters\."):
        return "ProductWriters turn (locks)"
    if has(frames, r"ProductRequest\.applyTo$|ProductResponse\.from$"):
        return "apply changes / build response object"
    if has(frames, r"readWithMessageConverters$"):
        return "JSON body parse (Jackson, converters)"
    if has(frames, r"^org\.hibernate\.validator\.|ValidationUtils|validateIfApplicable|MethodValidat"):
        return "bean validation"
    if has(frames, r"ProductService\.update$"):
        return "other inside ProductService.update (tx template, EntityManager, proxies)"
    if has(frames, r"handleReturnValue$|writeWithMessageConverters$"):
        return "response JSON + headers"
    if has(frames, r"ProductController\.update$"):
        return "other inside ProductController.update"
    return "other PUT dispatch (DispatcherServlet, argument resolution, mapping)"


def category(thread, frames):
    """(top-level cause, sub-step) of one sample."""
    if thread.startswith("product-change-feed"):
        if has(frames, r"^org\.sqlite\.|ProductChangeFeed\.applyNextOnSqlite$") and not has(frames, r"ProductChangeFeed\.apply$"):
            return "change feed", "read cursor + change rows, move cursor (SQLite)"
        if has(frames, r"ProductInvalidations\.reconcile"):
            return "change feed", "reconcile markers (Redis Lua per id)"
        if has(frames, r"ProductPageCache\.invalidateAll$"):
            return "change feed", "page generation bump"
        if has(frames, r"ProductChangeFeed\.apply$"):
            return "change feed", "read products rows (SQLite) + other of apply"
        return "change feed", "other (poll loop, lag, prune)"
    if thread.startswith("cache-audit"):
        return "auditor", "thread cache-audit"
    if "lettuce" in thread or has(frames, r"io\.netty\.channel\.(nio\.NioEventLoop|epoll\.EpollEventLoop|SingleThreadIoEventLoop)\.run"):
        return "Lettuce I/O threads (all Redis replies)", ""
    if thread.startswith("http-nio") or thread.startswith("tomcat"):
        if has(frames, r"FrameworkServlet\.doPut$"):
            return "PUT request", put_step(frames)
        if has(frames, r"ProductService\.loadAndCache$"):
            if has(frames, r"ProductCache\.(put|putAbsent)$"):
                return "GET miss: fill", "Redis fill (Lua)"
            if has(frames, r"FillLeases\.claim$"):
                return "GET miss: fill", "fill lease claim (Redis)"
            if has(frames, r"^org\.sqlite\."):
                return "GET miss: DB read", "SQLite (JDBC+native)"
            if has(frames, r"findById$"):
                return "GET miss: DB read", "Hibernate/JPA findById + read tx"
            return "GET miss: fill", "JSON + other of loadAndCache"
        if has(frames, r"CacheAuditor\."):
            return "auditor", "sampling hits on request threads"
        if has(frames, r"ProductController\.get$"):
            return "GET (lookup, hit path)", ""
        if has(frames, r"^ch\.qos\.logback\.|^org\.slf4j\."):
            return "request plumbing (shared)", "logging"
        return "request plumbing (shared)", "Tomcat, filters, observation, dispatch"
    if not frames or frames == ["<no java frames>"]:
        return "other", "no Java frames (%s)" % thread
    return "other", "thread %s" % re.sub(r"[-#]?\d+$", "", thread)


samples = [(x.thread, x.frames or ["<no java frames>"]) for x in jfr_samples.read(sys.stdin)]
n = len(samples)
if n == 0:
    sys.exit("no samples")
top = collections.Counter()
sub = collections.Counter()
for thread, frames in samples:
    c, s = category(thread, frames)
    top[c] += 1
    sub[(c, s)] += 1

per_put = CPU_MS / PUTS / n if CPU_MS and PUTS else None
print("samples: %d%s" % (n, "; %.0f CPU ms of Java threads, %d PUTs" % (CPU_MS, PUTS) if per_put else ""))
print("%-70s %7s %s" % ("cause", "share", "CPU ms/PUT" if per_put else ""))
for c, k in top.most_common():
    print("%-70s %6.1f%% %s" % (c, 100.0 * k / n, "%.3f" % (k * per_put) if per_put else ""))
    for (cc, s), kk in sub.most_common():
        if cc == c and s:
            print("    %-66s %6.1f%% %s" % (s, 100.0 * kk / n, "%.3f" % (kk * per_put) if per_put else ""))
