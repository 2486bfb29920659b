"""The model runner, the recovery tools and bench refuse bad arguments in one line with exit code
2, before any BigQuery client is made (so before any credentials or network)."""

from __future__ import annotations

import pytest

import bench.__main__ as bench
from pipeline.commands import run_command
from recovery import cli as recovery
from warehouse import render, runner
from warehouse.graph import model_names


@pytest.fixture(autouse=True)
def no_client(monkeypatch):
    """Any BigQuery client made here fails the test."""

    def refuse(*args, **kwargs):
        pytest.fail("a BigQuery client was made before the arguments were checked")

    monkeypatch.setattr(runner, "tool_client", refuse)
    monkeypatch.setattr(recovery, "tool_client", refuse)


def _one_line(main, prog: str, argv: list[str], capsys) -> str:
    assert run_command(main, prog, argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"{prog}: error: ")
    return captured.err[len(f"{prog}: error: ") : -1]


def test_an_unknown_model_names_every_model_nearest_first(capsys):
    line = _one_line(
        runner.main, "runner", ["run", "--date", "2026-11-03", "--models", "orders_frist_seen"], capsys
    )
    prefix = "--models: unknown model orders_frist_seen; the models, nearest first: "
    assert line.startswith(prefix)
    listed = line[len(prefix) :].split(", ")
    assert listed[0] == "orders_first_seen" and sorted(listed) == sorted(model_names())


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["backfill", "--start", "2026-11-03", "--end", "2026-11-01"],
            "--end 2026-11-01 is before --start 2026-11-03 "
            "(see `python -m warehouse.runner backfill --help`)",
        ),
        (
            ["run", "--date", "2026-13-01"],
            "argument --date: expected a date YYYY-MM-DD, got '2026-13-01' (see `python -m warehouse.runner "
            "run --help`)",
        ),
        (
            ["scheduled", "--run-date", "2026-11-03", "--models", "funnel_daily"],
            "--models: the scheduled script runs every model "
            "(see `python -m warehouse.runner scheduled --help`)",
        ),
        (
            ["run", "--date", "2026-11-03", "--bigquery-enpoint", "http://127.0.0.1:9050"],
            "unrecognized arguments: --bigquery-enpoint http://127.0.0.1:9050; did you mean "
            "--bigquery-endpoint? (see `python -m warehouse.runner --help`)",
        ),
    ],
)
def test_the_runner_refuses_bad_arguments_in_one_line(argv, line, capsys):
    assert _one_line(runner.main, "runner", argv, capsys) == line


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["replay-dead-letters", "--start=2026-11-03", "--end=2026-11-01"],
            "--end 2026-11-01 is before --start",
        ),
        (
            ["replay-dead-letters", "--start=2026-11-01", "--end=2026-11-02", "--ip-mode=hash"],
            "--ip-mode hash needs the key in EVENTHARBOR_IP_HASH_KEY",
        ),
        (
            ["promote-field", "--table=orders", "--field=status", "--start=2026-11-01", "--end=2026-11-02"],
            "--field status: a rule field of orders",
        ),
        (["replay-archive", "--root=x", "--start=2026-11-01"], "the following arguments are required: --end"),
    ],
)
def test_the_recovery_tools_refuse_bad_arguments_in_one_line(argv, line, capsys, monkeypatch):
    monkeypatch.delenv("EVENTHARBOR_IP_HASH_KEY", raising=False)
    assert _one_line(recovery.main, "recovery", argv, capsys).startswith(line)


def test_bench_names_its_sections_nearest_first(capsys):
    line = _one_line(bench.main, "bench", ["--only", "validation,modles"], capsys)
    prefix = "--only: unknown section 'modles'; the sections, nearest first: "
    assert line.startswith(prefix + "models, ")
    assert sorted(line[len(prefix) :].split(", ")) == sorted(bench.SECTIONS)


def test_render_suggests_the_option_meant(capsys):
    assert _one_line(render.main, "render", ["--chek"], capsys) == (
        "unrecognized arguments: --chek; did you mean --check? (see `python -m warehouse.render --help`)"
    )
