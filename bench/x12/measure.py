"""Read one 837P file with claimbridge in this process; print time and peak memory growth.

    python bench/x12/measure.py FILE [ADDRESS_SPACE_LIMIT_MB]

Run by ``bench/bench_x12_memory.py``, one fresh process per input. The
address space is capped (4 GiB by default) so a reader that does not bound
its memory fails here instead of taking the machine down. Memory growth is
the kernel's own accounting: the resident set after the imports, then the
peak resident set (``VmHWM``, reset after the imports through
``/proc/self/clear_refs``) once the file has been read; where that reset is
not allowed, ``ru_maxrss`` stands in for the peak. The last line printed is
a JSON object.
"""

from __future__ import annotations

import gc
import json
import re
import resource
import sys
import time

from claimbridge.errors import ClaimbridgeError
from claimbridge.formats.x12 import read_837p


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        found = re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE)
    return int(found.group(1)) if found else 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def main() -> None:
    path = sys.argv[1]
    limit = int(sys.argv[2]) << 20 if len(sys.argv) > 2 else 4 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    gc.collect()
    exact = _reset_peak()
    before = _status_kib("VmRSS")
    claims = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    with open(path, "rb") as stream:
        try:
            reading = read_837p(stream)
            for _ in reading:
                claims += 1
            errors = reading.errors
            outcome = f"refused: {_describe(errors[0])}" if errors else "accepted"
            refused = bool(errors)
        except ClaimbridgeError as exc:
            outcome, refused = f"refused: {_describe(exc)}", True
        except MemoryError:
            outcome, refused = "ran out of memory (address space limit)", False
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        consumed = stream.tell()
    peak = _status_kib("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "claims": claims,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "bytes_read": consumed,
        "rss_before_mb": before / 1024,
        "growth_mb": max(peak - before, 0) / 1024,
        "outcome": outcome,
        "refused": refused,
        "exact_peak": exact,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
