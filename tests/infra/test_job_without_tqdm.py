"""tqdm is a local-run dependency: the job builds without it (in a fresh python process where it
cannot be imported), and ``--progress_every`` without it fails up front."""

from __future__ import annotations

import subprocess
import sys


def test_the_job_builds_without_tqdm_and_refuses_progress_bars_without_it(tmp_path):
    """tqdm is a local-run dependency, not shipped to workers: the job imports and builds its graph
    without it, and ``--progress_every`` without it fails before the run, naming the option."""
    (tmp_path / "in.jsonl").write_text("{}\n")
    script = f"""
import sys
sys.modules["tqdm"] = None  # as on a worker without it: importing it raises ImportError
import importlib.util
importlib.util.find_spec = lambda name, *a: None if name == "tqdm" else _find(name, *a)
from apache_beam.options.pipeline_options import PipelineOptions
from pipeline.main import build_pipeline
from pipeline.options import OptionsError, check_options
import apache_beam as beam
argv = ["--project=p", "--source=files", "--input={tmp_path / "in.jsonl"}", "--output_dir={tmp_path / "out"}"]
build_pipeline(beam.Pipeline(options=PipelineOptions(argv)), PipelineOptions(argv))
try:
    check_options(PipelineOptions([*argv, "--progress_every=10"]))
except OptionsError as exc:
    print(exc)
"""
    script = script.replace(
        "import importlib.util\n", "import importlib.util\n_find = importlib.util.find_spec\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("--progress_every draws progress bars with tqdm"), done.stdout
