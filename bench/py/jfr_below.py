"""Where the CPU samples below one frame go: the next DEPTH frames under it, by share.

Reads the text of `jfr print --stack-depth 256 --events jdk.ExecutionSample FILE` on stdin.
For every sample with a frame matching ANCHOR (a regular expression on `Class.method`),
takes the DEPTH frames called from its outermost match and counts each such path; prints
the shares out of all samples, so that they add up with bench/py/jfr_top.py's inclusive ones.
Usage: jfr print ... | python3 jfr_below.py 'DispatcherServlet.doDispatch$' [DEPTH] [TOP]
"""
import collections
import re
import sys

import jfr_samples

ANCHOR = re.compile(sys.argv[1])
DEPTH = int(sys.argv[2]) if len(sys.argv) > 2 else 2
TOP = int(sys.argv[3]) if len(sys.argv) > 3 else 20

# "Class.method" of each frame, top of the stack first
samples = [[jfr_samples.short(frame) for frame in x.frames] for x in jfr_samples.read(sys.stdin) if x.frames]

paths, under = collections.Counter(), 0
for stack in samples:
    root_first = list(reversed(stack))
    hits = [i for i, frame in enumerate(root_first) if ANCHOR.search(frame)]
    if not hits:
        continue
    under += 1
    below = root_first[hits[0] + 1 : hits[0] + 1 + DEPTH]
    paths[" > ".join(below) or "(self)"] += 1

total = len(samples) or 1
print(f"samples: {len(samples)}; with {ANCHOR.pattern}: {under} ({100 * under / total:.1f}%)")
for path, count in paths.most_common(TOP):
    print(f"{100 * count / total:6.1f}%  {path}")
