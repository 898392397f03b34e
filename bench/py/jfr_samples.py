"""The CPU samples in the text of `jfr print --stack-depth 256 --events jdk.ExecutionSample FILE`.

Shared by jfr_top.py, jfr_below.py and jfr_startup.py, which read that text on stdin.
"""
import re
from dataclasses import dataclass, field

# "package.Class.method(argument types) line: N", as jfr prints each frame; frames without
# line numbers (proxies, hidden frames) end after the arguments.
FRAME = re.compile(r"^([\w$.<>/]+)\(.*\)(\s+line:.*)?$")


@dataclass
class Sample:
    time: str = ""  # startTime as printed, HH:MM:SS.mmm
    thread: str = "?"  # the sampled thread's name
    frames: list = field(default_factory=list)  # "package.Class.method", top of the stack first


def read(stream):
    """Every jdk.ExecutionSample in the stream, in order (frames empty when it had none)."""
    samples = []
    for line in stream:
        s = line.strip()
        if s.startswith("jdk.ExecutionSample") or s.startswith("jdk.CPUTimeSample") or s.startswith("jdk.NativeMethodSample"):
            samples.append(Sample())
        elif not samples:
            continue
        elif s.startswith("startTime = "):
            samples[-1].time = s.split("=", 1)[1].strip()[:12]
        elif s.startswith("sampledThread = ") or s.startswith("eventThread = "):
            samples[-1].thread = s.split("=", 1)[1].strip().split(" (")[0].strip('"')
        else:
            m = FRAME.match(s)
            if m:
                samples[-1].frames.append(m.group(1))
    return samples


def short(frame):
    """package.Class.method -> Class.method"""
    return ".".join(frame.rsplit(".", 2)[-2:])
