"""Where a start-up's CPU samples go, from a JFR recording of the whole start.

Reads the text of `jfr print --stack-depth 256 --events jdk.ExecutionSample FILE` on stdin;
counts only the samples taken before UNTIL (HH:MM:SS.mmm, the recording's clock) when given.
Prints the samples per thread, the inclusive share of named parts of a Spring Boot start
(a sample counts for a part when any frame of its stack matches) and the top frames by
inclusive share.
Usage: jfr print ... | python3 jfr_startup.py [UNTIL] [TOP]
"""
import collections
import re
import sys

import jfr_samples

UNTIL = sys.argv[1] if len(sys.argv) > 1 else None
TOP = int(sys.argv[2]) if len(sys.argv) > 2 else 25

PARTS = [
    ("Hibernate (JPA set-up)", r"^org\.hibernate\."),
    ("Flyway (validation)", r"^org\.flywaydb\."),
    ("Spring Data JPA repositories", r"^org\.springframework\.data\.(jpa|repository)\."),
    ("Tomcat (two connectors)", r"^org\.apache\.(catalina|tomcat|coyote)\."),
    ("springdoc", r"^org\.springdoc\."),
    ("Actuator and Micrometer", r"^org\.springframework\.boot\.actuate\.|^io\.micrometer\."),
    ("Lettuce and Netty (Redis)", r"^io\.lettuce\.|^io\.netty\."),
    ("SQLite JDBC and Hikari", r"^org\.sqlite\.|^com\.zaxxer\.hikari\."),
    ("Jackson", r"^tools\.jackson\.|^com\.fasterxml\.jackson\."),
    ("Logback", r"^ch\.qos\.logback\."),
    ("Spring: configuration classes and conditions", r"ConfigurationClass(PostProcessor|Parser|BeanDefinitionReader)\.|\.condition\.\w+Condition\."),
    ("Spring: creating beans", r"AbstractAutowireCapableBeanFactory\.createBean$"),
    ("Spring MVC handler mappings", r"^org\.springframework\.web\.servlet\..*HandlerMapping\."),
    ("class loading and linking", r"^java\.lang\.ClassLoader\.(loadClass|defineClass)|^jdk\.internal\.loader\.|^java\.lang\.Class\.forName"),
    ("reflection and proxies", r"^java\.lang\.reflect\.|^org\.springframework\.cglib\.|^java\.lang\.invoke\."),
]

# (thread with its numbers masked, so that a pool's threads count as one; frames top first)
samples = [(re.sub(r"[-#]?\d+", "#", x.thread), x.frames) for x in jfr_samples.read(sys.stdin)
           if x.frames and (UNTIL is None or x.time <= UNTIL)]

total = len(samples) or 1
print(f"samples: {len(samples)} (jdk.ExecutionSample{', up to ' + UNTIL if UNTIL else ''}; JIT and GC threads are not sampled)")
for name, count in collections.Counter(t for t, _ in samples).most_common(8):
    print(f"  {100 * count / total:5.1f}%  thread {name}")
print("\nparts of the start (inclusive: share of samples with such a frame anywhere in the stack)")
for name, pattern in PARTS:
    rx = re.compile(pattern)
    count = sum(1 for _, f in samples if any(rx.search(x) for x in f))
    print(f"  {100 * count / total:5.1f}%  {name}")
inclusive = collections.Counter()
for _, f in samples:
    for frame in set(f):
        inclusive[frame] += 1
print(f"\ntop {TOP} frames by inclusive share")
shown = 0
for frame, count in inclusive.most_common():
    if re.match(r"^java\.lang\.Thread\.run|^java\.lang\.Thread\.runWith", frame):
        continue
    print(f"  {100 * count / total:5.1f}%  {frame}")
    shown += 1
    if shown == TOP:
        break
