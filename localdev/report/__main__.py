"""``python -m localdev.report [--export .local/export] [--out .local/report.html]``: rebuild the
report page from an existing export folder (the emulators need not run)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from localdev.report.data import EXPORT
from localdev.report.page import OUT, write_report
from pipeline.commands import ArgumentParser, UsageError, run_command


def main(argv: Sequence[str] | None = None) -> None:
    parser = ArgumentParser(
        prog="python -m localdev.report",
        description="Write the run report, one self-contained HTML page of charts, from the JSON Lines "
        "exports that make run leaves in .local/export/ (the emulators need not run).",
    )
    parser.add_argument(
        "--export", type=Path, default=EXPORT, help="folder of <dataset>.<table>.jsonl exports"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="the HTML page to write")
    args = parser.parse_args(argv)
    if not args.export.is_dir():
        raise UsageError(f"--export {args.export} is not a folder of exports: run `make run` first")
    path = write_report(args.export, args.out)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m localdev.report"))
