"""pipeline.commands: expected errors end a command in one line and an exit code; bugs keep their
traceback; --debug shows it for the expected ones too."""

from __future__ import annotations

import pytest

from pipeline.commands import ArgumentParser, CommandError, UsageError, iso_date, run_command


def fails_with(exc: BaseException):
    def main(argv):
        raise exc

    return main


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (
            UsageError("--models: no model 'x'; known: a, b"),
            2,
            "tool: error: --models: no model 'x'; known: a, b\n",
        ),
        (
            CommandError("http://127.0.0.1:1 did not answer in 60 s"),
            1,
            "tool: error: http://127.0.0.1:1 did not",
        ),
        (IsADirectoryError(21, "Is a directory", "data/"), 1, "tool: error: data/: is a folder; give a file"),
        (FileNotFoundError(2, "No such file", "in.jsonl"), 1, "tool: error: in.jsonl: no such file"),
    ],
)
def test_expected_errors_are_one_line_with_their_exit_code(exc, code, line, capsys):
    assert run_command(fails_with(exc), "tool", []) == code
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1 and "Traceback" not in err


def test_missing_credentials_say_what_to_run(capsys):
    from google.auth.exceptions import DefaultCredentialsError

    assert run_command(fails_with(DefaultCredentialsError("no ADC")), "tool", []) == 1
    assert "gcloud auth application-default login" in capsys.readouterr().err


def test_debug_shows_the_traceback_and_is_not_passed_on(capsys, monkeypatch):
    monkeypatch.delenv("EVENTHARBOR_DEBUG", raising=False)
    seen = []

    def main(argv):
        seen.append(argv)
        raise CommandError("boom")

    assert run_command(main, "tool", ["--debug", "--x"]) == 1
    assert seen == [["--x"]] and "Traceback" in capsys.readouterr().err
    monkeypatch.setenv("EVENTHARBOR_DEBUG", "1")
    assert run_command(main, "tool", []) == 1
    assert "Traceback" in capsys.readouterr().err


def test_bugs_keep_their_traceback_and_results_pass_through():
    with pytest.raises(ZeroDivisionError):
        run_command(fails_with(ZeroDivisionError("x")), "tool", [])
    assert run_command(lambda argv: None, "tool", []) == 0
    assert run_command(lambda argv: 3, "tool", []) == 3


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="tool")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run")
    run.add_argument("--date", type=iso_date, required=True)
    run.add_argument("--models")
    return parser


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["run", "--date", "2026-11-03", "--modles", "x"],
            "unrecognized arguments: --modles x; did you mean --models? (see `tool --help`)",
        ),
        (
            ["run", "--date=2026-11-03", "--modles=x", "--deta=1"],
            "unrecognized arguments: --modles=x --deta=1; did you mean --models (not --modles), --date (not "
            "--deta)? (see `tool --help`)",
        ),
        (
            ["run", "--date", "yesterday"],
            "argument --date: expected a date YYYY-MM-DD, got 'yesterday' (see `tool run --help`)",
        ),
        (["run"], "the following arguments are required: --date (see `tool run --help`)"),
    ],
)
def test_usage_errors_are_one_line_naming_the_nearest_option(argv, line, capsys):
    def main(args):
        _parser().parse_args(args)

    assert run_command(main, "tool", argv) == 2
    captured = capsys.readouterr()
    assert captured.err == f"tool: error: {line}\n" and captured.out == ""


def test_help_still_prints_and_exits_0_with_how_errors_end(capsys):
    with pytest.raises(SystemExit) as done:
        _parser().parse_args(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: tool [-h] {run} ...") and "--debug (or EVENTHARBOR_DEBUG=1)" in out
