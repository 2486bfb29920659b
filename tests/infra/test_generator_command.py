"""``python -m localdev.generator`` as a command, in processes of its own: the same bytes whatever the
hash seed, and a --help that documents every flag. The rest of the CLI: tests/unit/test_generator_cli.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def test_cli_output_is_byte_identical_across_processes(tmp_path):
    outputs = []
    for hash_seed in ("1", "2"):
        target = tmp_path / hash_seed
        args = [
            "--seed",
            "5",
            "--start",
            "2026-01-10",
            "--days",
            "2",
            "--customers",
            "12",
            "--out",
            str(target),
        ]
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-m", "localdev.generator", *args], capture_output=True, env=env, check=True
        )
        assert done.stdout == b""
        assert len(done.stderr.decode().splitlines()) == 1
        outputs.append({p.name: p.read_bytes() for p in sorted(target.iterdir())})
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {"events-2026-01-10.jsonl", "events-2026-01-11.jsonl", "manifest.json"}


def test_help_documents_every_flag():
    done = subprocess.run(
        [sys.executable, "-m", "localdev.generator", "--help"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("usage: python -m localdev.generator")
    flags = re.findall(r"--[a-z-]+", done.stdout)
    for flag in (
        "--seed",
        "--start",
        "--days",
        "--customers",
        "--products",
        "--warehouses",
        "--orders-per-day",
        "--sessions-per-day",
        "--bad-fraction",
        "--duplicate-fraction",
        "--late-fraction",
        "--max-oversized",
        "--out",
        "--pubsub-project",
        "--topic",
        "--per-stream-topics",
    ):
        assert flag in flags
