"""Start and stop the local emulator stack: Pub/Sub, BigQuery (bqemulator) and GCS.

Each emulator runs as one child process on a free loopback port, is health-checked
before use, and is stopped by its process id. ``LocalStack`` then creates the
topics, subscriptions, bucket, datasets and every table from ``schemas/`` through
the services' APIs, exactly as they exist in the cloud.

``python -m localdev.stack`` starts the stack, prints its endpoints and waits
for Ctrl-C. Whoever starts the stack (:func:`local_stack`) stops every emulator by its pid on
Ctrl-C, SIGTERM and SIGHUP too (:mod:`localdev.interrupts`), and on its own errors.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from localdev.interrupts import stop_on_signals, stopping_now
from localdev.resources import MIXED, PROJECT, add_new_columns, create_tables, create_topics  # noqa: F401 (the stack's API)
from pipeline.commands import ArgumentParser, CommandError, UsageError, run_command
from schemas import STREAMS
from warehouse.clients import tool_client

BUCKET = "eventharbor-archive"


class EmulatorNotFound(CommandError):
    """An emulator binary is missing; the message says how to install it."""


# Where make run keeps the local BigQuery warehouse (localdev.demo writes it).
LOCAL_WAREHOUSE = Path(".local") / "bigquery"
# Where make run copies the GCS emulator's archive (it keeps files in memory only).
LOCAL_ARCHIVE = Path(".local") / "archive"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _venv_bin(name: str) -> str:
    """Path of a console script installed beside this Python, else from PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise EmulatorNotFound(
            f"`{name}` is not installed: run `make install` (pip install -e '.[dev]') to get it."
        )
    return found


def pubsub_emulator_launcher() -> Path:
    """The Cloud SDK's Pub/Sub emulator launcher (it execs java, so one pid)."""
    how = (
        "Install Java 17 and the Pub/Sub emulator: `apt-get install google-cloud-cli-pubsub-emulator` "
        "or `gcloud components install pubsub-emulator`."
    )
    gcloud = shutil.which("gcloud")
    if not gcloud:
        raise EmulatorNotFound(f"gcloud (the Cloud SDK) is not on PATH. {how}")
    relative = "platform/pubsub-emulator/bin/cloud-pubsub-emulator"
    # gcloud is <sdk root>/bin/gcloud (often through a symlink): that spares starting gcloud, a
    # Python program, for `gcloud info` (~0.5 s of CPU), which remains the way when it is not.
    launcher = Path(gcloud).resolve().parent.parent / relative
    if not launcher.exists():
        root = subprocess.run(
            [gcloud, "info", "--format=value(installation.sdk_root)"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        launcher = Path(root) / relative
    if not launcher.exists():
        raise EmulatorNotFound(f"no Pub/Sub emulator at {launcher}. {how}")
    if not shutil.which("java"):
        raise EmulatorNotFound(f"java is not on PATH; the Pub/Sub emulator needs Java 17. {how}")
    return launcher


def install_duckdb_spatial() -> None:
    """Install the packaged DuckDB spatial extension; bqemulator will not start without it."""
    import duckdb

    try:
        import duckdb_extension_spatial
    except ImportError as exc:
        raise EmulatorNotFound(
            "duckdb-extension-spatial==1.5.5 is not installed: run `make install`."
        ) from exc
    package_dir = Path(duckdb_extension_spatial.__file__).parent
    found = sorted(package_dir.rglob("spatial.duckdb_extension"))
    if not found:
        raise EmulatorNotFound(f"no spatial.duckdb_extension under {package_dir}: reinstall it.")
    with duckdb.connect() as con:
        con.execute(f"INSTALL '{found[0]}'")


@dataclass
class Emulator:
    """One emulator process, started on a free port and stopped by its pid."""

    name: str
    command: list[str]
    health_url: str
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    grpc_port: int | None = None  # bqemulator's second port: the Storage Read/Write APIs

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def grpc_host(self) -> str | None:
        return f"127.0.0.1:{self.grpc_port}" if self.grpc_port else None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 90.0, cancel: threading.Event | None = None) -> None:
        """Start the process and wait until it answers ``health_url``. Raises CommandError naming
        the emulator and its log if it exits or does not answer within ``timeout``; returns
        without waiting once ``cancel`` is set (whoever set it stops the emulator)."""
        if cancel is not None and cancel.is_set():
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():
                return
            if self.process.poll() is not None:
                raise CommandError(
                    f"{self.name} exited with code {self.process.returncode} while starting; "
                    f"see {self.log_path}: {last_line(self.log_path)}"
                )
            try:
                with urllib.request.urlopen(self.health_url, timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        raise CommandError(
            f"{self.name} did not answer {self.health_url} within {timeout:.0f} s; see {self.log_path}"
        )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s, to the emulator's process group: it leads a session of
        its own (its pid is the group's id), so a launcher's child goes with it."""
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def last_line(path: Path) -> str:
    """The last non-blank line of a log at ``path``, at most 300 characters ("" if none or unreadable)."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def pubsub_emulator(log_dir: Path, project: str = PROJECT) -> Emulator:
    port = free_port()
    return Emulator(
        name="Pub/Sub emulator",
        command=[str(pubsub_emulator_launcher()), "--host=127.0.0.1", f"--port={port}"],
        health_url=f"http://127.0.0.1:{port}/v1/projects/{project}/topics",
        port=port,
        log_path=log_dir / "pubsub-emulator.log",
    )


# bqemulator with the fix that lets its Storage Write API take rows of tables with RECORD columns.
BQEMULATOR_LAUNCHER = Path(__file__).with_name("bqemulator_launcher.py")


def bigquery_emulator(log_dir: Path, project: str = PROJECT, data_dir: Path | None = None) -> Emulator:
    """bqemulator on two free ports (REST, and gRPC for the Storage Read/Write APIs), started
    through :mod:`localdev.bqemulator_launcher`."""
    install_duckdb_spatial()
    try:
        import bqemulator  # noqa: F401
    except ImportError as exc:
        raise EmulatorNotFound(
            "bqemulator is not installed: run `make install` (pip install -e '.[dev]') to get it."
        ) from exc
    port, grpc_port = free_port(), free_port()
    command = [
        sys.executable,
        str(BQEMULATOR_LAUNCHER),
        "start",
        "--rest-port",
        str(port),
        "--grpc-port",
        str(grpc_port),
        "--project",
        project,
        "--log-level",
        "warning",
    ]
    if data_dir:
        data_dir.mkdir(parents=True, exist_ok=True)
        command += ["--persistent", "--data-dir", str(data_dir)]
    return Emulator(
        name="BigQuery emulator (bqemulator)",
        command=command,
        health_url=f"http://127.0.0.1:{port}/bigquery/v2/projects/{project}/datasets",
        port=port,
        log_path=log_dir / "bqemulator.log",
        grpc_port=grpc_port,
    )


def storage_emulator(log_dir: Path, data_dir: Path | None = None) -> Emulator:
    """In memory, or with ``data_dir`` on disk (then it can be stopped and started again on the
    same port with its buckets and objects)."""
    port = free_port()
    command = [_venv_bin("gcp-storage-emulator")]
    if data_dir:
        data_dir.mkdir(parents=True, exist_ok=True)
        command += ["--data-dir", str(data_dir.resolve())]
    command += ["start", "--port", str(port), "-q"] + ([] if data_dir else ["--in-memory"])
    return Emulator(
        name="GCS emulator (gcp-storage-emulator)",
        command=command,
        health_url=f"http://127.0.0.1:{port}/storage/v1/b?project={PROJECT}",
        port=port,
        log_path=log_dir / "gcs-emulator.log",
    )


def bigquery_client(endpoint: str, project: str = PROJECT):
    """A google-cloud-bigquery client for the emulator at ``endpoint`` (http://host:port)."""
    return tool_client(project, endpoint)


def bigquery_read_client(grpc_host: str):
    """A BigQuery Storage Read API client for the emulator's gRPC port (``host:port``): a
    plaintext channel, no credentials, and no cap on the size of a message received."""
    import grpc
    from google.cloud.bigquery_storage_v1 import BigQueryReadClient
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
        BigQueryReadGrpcTransport,
    )

    channel = grpc.insecure_channel(grpc_host, options=[("grpc.max_receive_message_length", -1)])
    return BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=channel))


def storage_client(project: str = PROJECT):
    """A google-cloud-storage client; STORAGE_EMULATOR_HOST must point at the emulator."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project=project, credentials=AnonymousCredentials())


def connect_beam_gcs_anonymously() -> tuple[bool, Any]:
    """From now on Beam's GCS filesystem connects anonymously at once (the storage emulator needs
    no credentials); returns Beam's credential cache as it was, for ``restore_beam_gcs_credentials``.

    Without it, Beam's first GCS access looks for Application Default Credentials and, on a
    machine that has none, retries for ~23 s before connecting anonymously anyway
    (``apache_beam.internal.gcp.auth``): a stall in every local run that archives. Beam has no
    option for this, so it sets Beam's private credential cache: the one place we touch it.
    """
    from apache_beam.internal.gcp import auth

    with auth._Credentials._credentials_lock:
        saved = auth._Credentials._credentials_init, auth._Credentials._credentials
        auth._Credentials._credentials_init, auth._Credentials._credentials = True, None
    return saved


def restore_beam_gcs_credentials(saved: tuple[bool, Any]) -> None:
    """Put back what ``connect_beam_gcs_anonymously`` replaced."""
    from apache_beam.internal.gcp import auth

    with auth._Credentials._credentials_lock:
        auth._Credentials._credentials_init, auth._Credentials._credentials = saved


@dataclass
class LocalStack:
    """The three emulators, started together, with everything the pipeline needs created."""

    root: Path
    bigquery_data_dir: Path | None = None
    project: str = PROJECT
    bucket: str = BUCKET
    emulators: dict[str, Emulator] = field(default_factory=dict)
    subscriptions: dict[str, str] = field(default_factory=dict)
    # The variables start() overwrote, as they were: stop() puts them back, so a stack started
    # and stopped inside a process (a test) leaves no client pointing at its stopped emulators.
    saved_env: dict[str, str | None] = field(default_factory=dict)
    saved_gcs_credentials: tuple[bool, Any] | None = None

    @property
    def bigquery_endpoint(self) -> str:
        return f"http://{self.emulators['bigquery'].host}"

    @property
    def bigquery_storage_endpoint(self) -> str:
        """``host:port`` of the BigQuery emulator's gRPC API (Storage Read and Write)."""
        return self.emulators["bigquery"].grpc_host

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point the official clients at the emulators."""
        return {
            "PUBSUB_EMULATOR_HOST": self.emulators["pubsub"].host,
            "STORAGE_EMULATOR_HOST": f"http://{self.emulators['storage'].host}",
            "GOOGLE_CLOUD_PROJECT": self.project,
        }

    def start(self) -> LocalStack:
        """Start whichever emulators are not running yet, then create topics, bucket and tables.

        Every emulator to start is found first, so a missing one fails before any starts (saying
        how to install it); then they start all at once. If one cannot start, or a signal stops
        the command meanwhile, the other starts are called off, every emulator is stopped by its
        pid and the first failure, in the order Pub/Sub, BigQuery, GCS, is raised."""
        log_dir = self.root / "logs"
        factories = {
            "pubsub": lambda: pubsub_emulator(log_dir, self.project),
            "bigquery": lambda: bigquery_emulator(log_dir, self.project, self.bigquery_data_dir),
            "storage": lambda: storage_emulator(log_dir),
        }
        try:
            missing = [name for name in factories if name not in self.emulators]
            self.emulators.update(
                zip(missing, _in_parallel([factories[name] for name in missing]), strict=True)
            )
            self.emulators = {name: self.emulators[name] for name in factories if name in self.emulators}
            cancel = threading.Event()
            _in_parallel(
                [lambda emulator=self.emulators[name]: emulator.start(cancel=cancel) for name in missing],
                cancel,
            )
            self.saved_env = {key: os.environ.get(key) for key in self.env}
            os.environ.update(self.env)
            self.saved_gcs_credentials = connect_beam_gcs_anonymously()
            _in_parallel(
                [
                    lambda: create_tables(self.bigquery_client(), self.project),
                    lambda: self.subscriptions.update(create_topics(self.project)),
                    lambda: storage_client(self.project).create_bucket(self.bucket),
                ]
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every emulator (all at once, each by its pid) and put the environment back; a
        signal from now on no longer interrupts the command (:func:`stopping_now`)."""
        stopping_now()
        try:
            _in_parallel([emulator.stop for emulator in self.emulators.values()])
        finally:
            for key, value in self.saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self.saved_env = {}
            if self.saved_gcs_credentials is not None:
                restore_beam_gcs_credentials(self.saved_gcs_credentials)
                self.saved_gcs_credentials = None

    def bigquery_client(self):
        return bigquery_client(self.bigquery_endpoint, self.project)

    def bigquery_read_client(self):
        """A Storage Read API client for the BigQuery emulator (what the exports read with)."""
        return bigquery_read_client(self.emulators["bigquery"].grpc_host)

    def fresh_dataset(self, prefix: str = "ev") -> str:
        """A new events dataset ``<prefix>_<random>`` with every table of schemas/: an empty
        warehouse for one test or one benchmark run on the same emulator."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        create_tables(self.bigquery_client(), self.project, datasets={"events": name})
        return name


T = TypeVar("T")


def _in_parallel(calls: list[Callable[[], T]], cancel: threading.Event | None = None) -> list[T]:
    """Run ``calls`` on threads of their own and return their results in order; raise the first
    one's error (in the order given) when any failed.

    With ``cancel``, a failure sets it, and so does a signal's :class:`~localdev.interrupts.Stopped`
    interrupting the wait, which then still waits for every call: the calls watch ``cancel`` and
    return soon, and what they started is known only once they have. Without it, an interrupted
    wait leaves the calls to finish on their own (daemon threads: they do not hold up the exit).
    """
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread below
            errors[index] = exc
            if cancel is not None:
                cancel.set()

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:
        if cancel is not None:
            cancel.set()
            for thread in threads:
                thread.join()
        raise
    for error in errors:
        if error is not None:
            raise error
    return results


@contextmanager
def local_stack(root: Path | None = None, bigquery_data_dir: Path | None = None) -> Iterator[LocalStack]:
    """Run the whole stack for the duration of a ``with`` block; Ctrl-C, SIGTERM and SIGHUP stop
    it too, each emulator by its pid (:func:`localdev.interrupts.stop_on_signals`)."""
    root = root or Path(tempfile.mkdtemp(prefix="eventharbor-"))
    with stop_on_signals():
        stack = LocalStack(root=root, bigquery_data_dir=bigquery_data_dir).start()
        try:
            yield stack
        finally:
            stack.stop()


def restore_archive(source: Path, bucket: str, prefix: str) -> int:
    """Upload the previous run's archive copy back into the GCS emulator (which starts empty)."""
    if not source.is_dir():
        return 0
    target = storage_client().bucket(bucket)
    paths = sorted(p for p in source.rglob("*") if p.is_file())

    def upload(path: Path) -> None:
        target.blob(prefix + path.relative_to(source).as_posix()).upload_from_filename(str(path))

    with ThreadPoolExecutor(8) as pool:  # files at once
        list(pool.map(upload, paths))
    return len(paths)


def warehouse_guide(stack: LocalStack) -> list[str]:
    """Put the archive ``make run`` copied to .local/archive back on the GCS emulator, and say how
    to point the model runner, the recovery tools and the official clients at this warehouse, with
    the dates it holds."""
    restored = restore_archive(LOCAL_ARCHIVE, stack.bucket, "raw/")
    client = stack.bigquery_client()
    days = " UNION ALL ".join(
        f"SELECT MIN(event_date) AS first, MAX(event_date) AS last FROM `events.{stream}` "
        "WHERE event_date >= '1970-01-01'"
        for stream in STREAMS
    )
    first, last = next(iter(client.query(f"SELECT MIN(first), MAX(last) FROM ({days})").result()))
    failed = next(
        iter(
            client.query(
                "SELECT MIN(DATE(failed_at)), MAX(DATE(failed_at)) FROM `events.dead_letter`"
            ).result()
        )
    )
    # The archive is foldered by the day each message arrived (dt=), not by the event's day.
    archived = sorted({p.name.removeprefix("dt=") for p in LOCAL_ARCHIVE.glob("*/dt=*")}) or ["(none)"]
    endpoint = f"--bigquery-endpoint {stack.bigquery_endpoint}"
    lines = [
        f"# the warehouse of the last make run: events {first} .. {last}; dead letters failed {failed[0]} .. "
        f"{failed[1]}; {restored} archive files restored to gs://{stack.bucket}/raw/",
        f"#   models:       python -m warehouse.runner backfill --start {first} --end {last} {endpoint}",
        f"#   dead letters: python -m recovery replay-dead-letters --start {failed[0]} --end {failed[1]} "
        f"{endpoint} --dry-run",
        f"#   archive:      python -m recovery replay-archive --root {LOCAL_ARCHIVE} --start {archived[0]} "
        f"--end {archived[-1]} -- --project {stack.project} --bigquery_endpoint {stack.bigquery_endpoint}",
        f"#   Python:       bigquery.Client(project={stack.project!r}, credentials=AnonymousCredentials(), "
        f"client_options={{'api_endpoint': {stack.bigquery_endpoint!r}}})",
    ]
    if first is None:
        lines[0] = f"# the warehouse in {LOCAL_WAREHOUSE}/ holds no events"
        del lines[1:4]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = ArgumentParser(
        prog="python -m localdev.stack",
        description="Start the local emulators (Pub/Sub, BigQuery, GCS) on free loopback ports, create "
        "the topics, subscriptions, bucket, datasets and tables of schemas/, print the environment "
        "variables and endpoints that point the clients at them, and wait. Ctrl-C, SIGTERM or SIGHUP "
        "stops every emulator by its pid. Logs: .local/logs/.",
    )
    parser.add_argument(
        "--warehouse",
        action="store_true",
        help=f"open the BigQuery warehouse that make run left in {LOCAL_WAREHOUSE}/ (default: an empty one)",
    )
    args = parser.parse_args(argv)
    if args.warehouse and not LOCAL_WAREHOUSE.is_dir():
        raise UsageError(f"--warehouse: no {LOCAL_WAREHOUSE}/ in {Path.cwd()}; run `make run` here first")
    with local_stack(Path(".local"), bigquery_data_dir=LOCAL_WAREHOUSE if args.warehouse else None) as stack:
        for key, value in stack.env.items():
            print(f"export {key}={value}")
        print(f"# BigQuery REST endpoint: {stack.bigquery_endpoint}  (project {stack.project})")
        print(f"# BigQuery Storage API (gRPC): {stack.bigquery_storage_endpoint}")
        for name, emulator in stack.emulators.items():
            print(f"# {name}: pid {emulator.pid}")
        if args.warehouse:
            for line in warehouse_guide(stack):
                print(line)
        print("# Ctrl-C, SIGTERM or SIGHUP stops the stack.", flush=True)
        with suppress(KeyboardInterrupt):
            signal.pause()
    print("# stopped every emulator", flush=True)


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m localdev.stack"))
