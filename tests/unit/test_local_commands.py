"""The local commands (``localdev.*``): ``--help`` says what each does and has no side effect,
expected errors are one line with exit code 2 (usage) or 1 (runtime) before any emulator starts,
and SIGINT, SIGTERM and SIGHUP raise ``Stopped`` once (``localdev/interrupts.py``). No emulator
here: the commands that start them are stopped by signals in tests/integration/test_no_orphans.py."""

from __future__ import annotations

import importlib
import os
import signal
import time

import pytest

from localdev import stack as localstack
from localdev.interrupts import Stopped, stop_on_signals
from localdev.streaming.processes import process_tree
from pipeline.commands import run_command

# module -> where its main is
ENTRY_POINTS = {
    "localdev.stack": "localdev.stack",
    "localdev.demo": "localdev.demo",
    "localdev.live_stream": "localdev.live_stream",
    "localdev.soak": "localdev.soak",
    "localdev.fuzz": "localdev.fuzz.cli",
    "localdev.export": "localdev.export",
    "localdev.generator": "localdev.generator.cli",
    "localdev.report": "localdev.report.__main__",
}


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_help_says_what_the_command_does_and_does_nothing_else(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main = importlib.import_module(ENTRY_POINTS[module]).main
    # In `make test` the session's emulators are already children of this process.
    running = set(process_tree(os.getpid()))
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: python -m {module} ")
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 8, description  # a sentence, not a title
    assert not list(tmp_path.iterdir()), "--help wrote files"
    assert set(process_tree(os.getpid())) <= running, "--help started a process"


def one_line_error(main, prog: str, argv: list[str], capsys) -> tuple[int, str]:
    code = run_command(main, prog, argv)
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, captured.err
    assert captured.err.startswith(f"{prog}: error: ")
    return code, captured.err


def test_make_run_refuses_a_folder_or_a_glob_matching_nothing_before_any_emulator(
    tmp_path, monkeypatch, capsys
):
    from localdev import demo

    def no_stack(*args, **kwargs):
        raise AssertionError("the emulators were started")

    monkeypatch.setattr(demo, "local_stack", no_stack)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "events.jsonl").write_text("{}\n")
    folder = str(tmp_path / "data")

    code, err = one_line_error(demo.main, "python -m localdev.demo", ["--input", folder], capsys)
    assert code == 2 and f"{folder} is a folder; give its files, e.g. INPUT='{folder}/*.jsonl'" in err
    assert capsys.readouterr().out == ""  # not even step 1

    code, err = one_line_error(demo.main, "prog", ["--input", f"{folder}/*.csv"], capsys)
    assert code == 2 and f"no file matches {folder}/*.csv" in err


def test_a_missing_emulator_is_one_line_saying_how_to_install_it_and_nothing_starts(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no gcloud, no java
    before = process_tree(os.getpid())

    code, err = one_line_error(localstack.main, "python -m localdev.stack", [], capsys)

    assert code == 1 and "gcloud (the Cloud SDK) is not on PATH" in err
    assert "gcloud components install pubsub-emulator" in err
    assert process_tree(os.getpid()) == before


def test_stack_warehouse_needs_make_runs_warehouse(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, err = one_line_error(localstack.main, "prog", ["--warehouse"], capsys)
    assert code == 2 and "--warehouse: no .local/bigquery/" in err and "run `make run` here first" in err


def test_report_and_export_name_what_is_missing(tmp_path, capsys):
    from localdev import export
    from localdev.report.__main__ import main as report_main

    code, err = one_line_error(report_main, "prog", ["--export", str(tmp_path / "nope")], capsys)
    assert code == 2 and "is not a folder of exports: run `make run` first" in err

    argv = ["--bigquery-endpoint", "http://127.0.0.1:1", "--storage-endpoint", "127.0.0.1:1"]
    code, err = one_line_error(export.main, "prog", argv, capsys)
    assert code == 1 and "--bigquery-endpoint http://127.0.0.1:1 does not answer" in err
    assert "python -m localdev.stack --warehouse" in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_raises_stopped_once_then_the_stopping_is_not_interrupted(signum):
    # As from a terminal: CI may start the suite with SIGHUP ignored (nohup), which is kept.
    before = signal.signal(signum, signal.SIG_DFL)
    with pytest.raises(Stopped, match=signum.name), stop_on_signals() as interrupts:
        try:
            os.kill(os.getpid(), signum)
            time.sleep(5)
        finally:
            assert interrupts.stopping
            os.kill(os.getpid(), signum)  # while stopping: reported and ignored
            time.sleep(0.1)
    assert signal.signal(signum, before) == signal.SIG_DFL


def test_graceful_asks_first_and_stops_at_once_on_the_second_signal(capsys):
    with stop_on_signals() as interrupts, stop_on_signals() as inner:
        assert inner is interrupts  # nested: the handler in place
        interrupts.graceful("stopping the feed and draining")
        os.kill(os.getpid(), signal.SIGTERM)
        assert interrupts.requested.wait(5)
        with pytest.raises(Stopped):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
    assert "SIGTERM: stopping the feed and draining (press Ctrl-C again" in capsys.readouterr().err


def test_an_ignored_sighup_stays_ignored(monkeypatch):
    """``nohup make soak``: the user asked the command to outlive the terminal."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_on_signals():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_generator_out_must_be_a_folder(tmp_path, capsys):
    from localdev.generator.cli import main

    (tmp_path / "file").write_text("")
    code, err = one_line_error(main, "prog", ["--out", str(tmp_path / "file")], capsys)
    assert code == 2 and f"--out {tmp_path / 'file'} is a file; give a folder" in err
