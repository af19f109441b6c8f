"""What the machine is, as the tools report it next to their figures."""

import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU's name from /proc/cpuinfo (x86: "model name"; ARM: "Model" or "Hardware"), else
    what the platform module says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model", "Hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
