"""``make run``: the whole local demo on the embedded emulators.

1. generate a sample (or take ``--input``), 2. start Pub/Sub, BigQuery and GCS
emulators with a persistent BigQuery data directory, 3. run the batch pipeline
into BigQuery with the raw archive on GCS, 4. build the models with the scheduled
query's own script for the last date loaded, 5. write ``.local/run-summary.json`` and
``.local/export/``, and copy the archive to ``.local/archive/``, 6. stop the emulators.

Each run starts from an empty warehouse, unless ``--keep`` (``make run KEEP=1``): then the
warehouse (``.local/bigquery``) and the archive (``.local/archive``) of the previous run are
kept and the new input is added to them. Either way step 4 is what the deployed schedule does
(:func:`warehouse.runner.run_scheduled`): it rebuilds from the earliest day whose rows changed
since its last run (all days, on a new warehouse) to the last date loaded, with a late-data
horizon that spans the warehouse's dates.

``--input`` is checked before any emulator starts: a folder, a glob that matches no file or an
unreadable file ends the command in one line. Ctrl-C, SIGTERM or SIGHUP stops the emulators by
pid (:mod:`localdev.interrupts`), exit code 130.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from localdev.export import export_dataset
from localdev.generator import GeneratorConfig, generate, write_files
from localdev.report import write_report
from localdev.stack import local_stack, restore_archive, storage_client
from pipeline import main as pipeline_main
from pipeline.commands import ArgumentParser, CommandError, UsageError, run_command
from pipeline.options import OptionsError
from pipeline.reconciliation import is_balanced
from pipeline.sources import check_inputs_exist, input_patterns
from schemas import STREAMS
from warehouse import render
from warehouse import runner as models

LOCAL = Path(".local")
DOWNLOADS = 8  # archive files copied at once


class Steps:
    """Prints ``[n/6] text`` as each step starts and ``took N s`` as it ends."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.step_started: float | None = None

    def __call__(self, number: int, text: str) -> None:
        self.done()
        print(f"[{number}/6] {text}", flush=True)
        self.step_started = time.monotonic()

    def done(self) -> None:
        """End the current step, if any."""
        if self.step_started is not None:
            print(f"      took {time.monotonic() - self.step_started:.1f} s", flush=True)
            self.step_started = None


def event_date_range(client, dataset: str = "events") -> tuple[date, date] | None:
    """First and last event_date loaded into the raw tables."""
    parts = " UNION ALL ".join(
        f"SELECT MIN(event_date) AS lo, MAX(event_date) AS hi FROM `{dataset}.{t}` "
        "WHERE event_date >= '1970-01-01'"
        for t in STREAMS
    )
    [row] = list(client.query(f"SELECT MIN(lo) AS lo, MAX(hi) AS hi FROM ({parts})").result())
    return (row["lo"], row["hi"]) if row["lo"] else None


def build_models(client, dates: tuple[date, date]) -> dict:
    """The scheduled query's script for the run that builds ``dates[1]``, with a horizon that
    reaches ``dates[0]`` (at least the deployed default, below the raw partition expiration):
    the build log row it wrote."""
    first, last = dates
    expiration = render.raw_partition_expiration_days()
    horizon = min(max(render.DEFAULT_HORIZON_DAYS, (last - first).days), expiration - 1)
    run_date = last + timedelta(days=render.DEFAULT_LAG_DAYS)
    return models.run_scheduled(client, run_date, horizon_days=horizon, expiration_days=expiration)


def check_input(value: str) -> None:
    """Refuse ``--input`` (``make run INPUT=``) before any emulator starts: a glob that matches no
    file, a folder (Beam would fail on it half-way through the run) or a local file that cannot
    be read."""
    from apache_beam.io.filesystems import FileSystems

    patterns = input_patterns(value)
    if not patterns:
        raise UsageError(f"INPUT={value!r}: give JSON Lines or archive files, e.g. INPUT='data/*.jsonl'")
    try:
        check_inputs_exist(patterns)
    except OptionsError as exc:
        raise UsageError(f"INPUT={value!r}: {exc}") from None
    for result in FileSystems.match(patterns):
        for path in (metadata.path for metadata in result.metadata_list):
            if os.path.isdir(path):
                example = os.path.join(path, "*.jsonl")
                raise UsageError(
                    f"INPUT={value!r}: {path} is a folder; give its files, e.g. INPUT='{example}'"
                )
            if "://" not in path:
                try:
                    with open(path, "rb"):
                        pass
                except PermissionError:
                    raise CommandError(
                        f"INPUT={value!r}: {path} cannot be read (permission denied)"
                    ) from None


def copy_archive(bucket: str, prefix: str, target: Path) -> int:
    """Download the GCS emulator's archive (which lives in memory) to ``target``, several files
    at once."""
    shutil.rmtree(target, ignore_errors=True)
    blobs = list(storage_client().list_blobs(bucket, prefix=prefix))

    def download(blob) -> None:
        path = target / blob.name.removeprefix(prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob.download_to_filename(str(path))

    with ThreadPoolExecutor(DOWNLOADS) as pool:
        list(pool.map(download, blobs))
    return len(blobs)


def run_demo(input_glob: str | None, local: Path = LOCAL, seed: int = 42, keep: bool = False) -> dict:
    if input_glob:
        check_input(input_glob)
    step = Steps()
    step(1, "sample data")
    if input_glob:
        print(f"      using {input_glob}")
    else:
        sample_dir = local / "sample"
        sample = generate(GeneratorConfig(seed=seed))
        write_files(sample, sample_dir)
        input_glob = str(sample_dir / "events-*.jsonl")
        print(f"      generated {sample.manifest['messages']} messages into {sample_dir}/")

    step(2, "starting the local emulators (Pub/Sub, BigQuery, GCS)")
    data_dir = local / "bigquery"
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)  # each demo run starts from empty tables
    with local_stack(local, bigquery_data_dir=data_dir) as stack:
        for name, emulator in stack.emulators.items():
            print(f"      {name:<9} {emulator.host}  pid {emulator.pid}")
        if keep:
            restored = restore_archive(local / "archive", stack.bucket, "raw/")
            print(f"      KEEP: kept the warehouse in {data_dir}/ and {restored} archive files")

        step(3, "running the Beam pipeline on the DirectRunner")
        archive = f"gs://{stack.bucket}/raw"
        summary = pipeline_main.run(
            [
                "--source=files",
                f"--input={input_glob}",
                f"--project={stack.project}",
                f"--bigquery_endpoint={stack.bigquery_endpoint}",
                f"--archive_root={archive}",
                "--progress_every=2000",
            ]
        )
        client = stack.bigquery_client()

        dates = event_date_range(client)
        if dates:
            step(4, f"building the models as the daily schedule does, for {dates[1]}")
            print(f"      {models.describe_build(build_models(client, dates))}")
            summary["models"] = models.row_counts(client)
        else:
            step(4, "no events loaded: nothing to model")
            summary["models"] = {}

        step(5, "writing the summary and exports")
        (local / "run-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        exported = {}
        read_client = stack.bigquery_read_client()
        with ThreadPoolExecutor(1) as background:  # the archive copy runs beside the exports
            copied = background.submit(copy_archive, stack.bucket, "raw/", local / "archive")
            for dataset in ("events", "analytics"):
                counts = export_dataset(client, read_client, dataset, local / "export")
                exported.update({f"{dataset}.{t}": n for t, n in counts.items()})
            files = copied.result()
        print(
            f"      {local}/run-summary.json, {len(exported)} tables in {local}/export/, "
            f"{files} archive files in {local}/archive/"
        )
        print(f"      {write_report(local / 'export', local / 'report.html')}: the run's charts")
        step(6, "stopping the emulators")
    step.done()
    print(f"done in {time.monotonic() - step.started:.0f}s; models: {json.dumps(summary['models'])}")
    if not is_balanced(summary):
        raise CommandError(
            "the run did not reconcile: messages in != loaded + rejected + duplicates; "
            f"see {local}/run-summary.json"
        )
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    parser = ArgumentParser(
        prog="python -m localdev.demo",
        description="make run: generate a sample (or take --input), start the local emulators "
        "(Pub/Sub, BigQuery, GCS), run the batch pipeline into BigQuery with the raw archive on GCS, "
        "build the models as the daily schedule does, write .local/run-summary.json, .local/export/, "
        ".local/archive/ and .local/report.html, and stop the emulators. --input is checked before "
        "any emulator starts; Ctrl-C, SIGTERM or SIGHUP stops the emulators by pid (exit code 130).",
    )
    parser.add_argument(
        "--input", help="comma-separated globs of JSON Lines / archive files to load instead of a sample"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated sample")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="add to the previous run's warehouse and archive instead of starting empty (make run KEEP=1)",
    )
    parser.add_argument(
        "--local-dir", type=Path, default=LOCAL, help="where the run's files go (default .local)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for noisy in ("apache_beam", "google.auth"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    run_demo(args.input, local=args.local_dir, seed=args.seed, keep=args.keep)


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m localdev.demo"))
