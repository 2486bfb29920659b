"""Run one measured pipeline in a fresh process, so its wall time and peak memory are its own.

``python -m bench.child bare|chain INPUT OUTPUT_DIR`` prints one JSON object:
``{"seconds": ..., "peak_rss_mib": ...}``. :func:`measure` runs it from the harness.
"""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def measure(kind: str, input_path: Path, output_dir: Path) -> dict[str, Any]:
    """Run ``kind`` over ``input_path`` in a child process; its seconds and peak RSS."""
    output_dir.mkdir(parents=True, exist_ok=True)
    finished = subprocess.run(
        [sys.executable, "-m", "bench.child", kind, str(input_path), str(output_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"bench.child {kind} failed:\n{finished.stderr[-4000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    kind, input_path, output_dir = argv[0], Path(argv[1]), Path(argv[2])
    logging.getLogger().setLevel(logging.ERROR)
    started = time.perf_counter()
    if kind == "bare":
        from bench.bare_pipeline import run_bare

        run_bare(input_path, output_dir)
    elif kind == "chain":
        from bench.chain_pipeline import run_chain

        run_chain(input_path, output_dir)
    else:
        raise SystemExit(f"unknown pipeline {kind!r}: expected bare or chain")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mib": round(peak, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
