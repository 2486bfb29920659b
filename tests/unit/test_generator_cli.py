"""``python -m localdev.generator``, called in-process: flags, the files and manifest it writes, its
one-line summary. Run as a command: tests/infra/test_generator_command.py."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest

from localdev.generator import write_files
from localdev.generator.cli import config_from, main, parser, summary
from pipeline.commands import UsageError, run_command
from tests.generator_spec import CONFIG, START, TABLES, generated, read_lines

TINY = ["--days", "2", "--customers", "6", "--orders-per-day", "3", "--sessions-per-day", "3"]


@pytest.fixture(scope="module")
def sample():
    return generated(CONFIG)


@pytest.fixture(scope="module")
def out(tmp_path_factory, sample):
    directory = tmp_path_factory.mktemp("sample")
    write_files(sample, directory)
    return directory


@pytest.fixture(scope="module")
def lines(out):
    return read_lines(out)


def test_manifest_matches_the_files(out, lines, sample):
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest == sample.manifest
    assert manifest["seed"] == 7 and manifest["start"] == "2026-03-02" and manifest["days"] == 7
    assert len(lines) == manifest["messages"] == len(sample.messages)
    assert 2000 <= manifest["messages"] <= 8000
    valid = [line for line in lines if line.code is None and not line.resent]
    per_stream = Counter(TABLES[line.event["event_type"]] for line in valid)
    assert manifest["valid_unique"] == {stream: per_stream[stream] for stream in TABLES.values()}
    assert manifest["duplicates"] == sum(line.resent for line in lines)
    assert manifest["rejected"] == dict(Counter(line.code for line in lines if line.code))
    assert manifest["late"] == sum(line.day > line.time.date() for line in valid)
    assert manifest["dates"] == sorted({line.time.date().isoformat() for line in valid})
    expected = (
        sum(manifest["valid_unique"].values()) + manifest["duplicates"] + sum(manifest["rejected"].values())
    )
    assert manifest["messages"] == expected
    assert sum(manifest["rejected_on_pubsub"].values()) == sum(manifest["rejected"].values())


def test_files_are_per_arrival_day_in_arrival_order(sample, out, lines):
    names = sorted(p.name for p in out.glob("events-*.jsonl"))
    assert names == [f"events-{START + timedelta(days=d)}.jsonl" for d in range(7)]
    arrivals = [message.arrival for message in sample.messages]
    assert arrivals == sorted(arrivals)
    assert [line.day for line in lines] == [a.date() for a in arrivals]
    assert [line.data for line in lines] == sample.lines()


def test_write_files_replaces_an_earlier_sample_but_leaves_other_files(tmp_path, sample):
    stale = tmp_path / "events-1999-01-01.jsonl"
    stale.write_bytes(b"{}\n")
    (tmp_path / "notes.txt").write_text("keep")
    written = write_files(sample, tmp_path)
    assert not stale.exists() and (tmp_path / "notes.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.glob("events-*.jsonl")) == sorted(p.name for p in written)


def test_main_writes_the_sample_and_one_summary_line(tmp_path, capsys):
    assert main(["--seed", "9", "--start", "2026-01-05", *TINY, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert captured.err == summary_of(manifest) + "\n"
    assert manifest["seed"] == 9 and manifest["start"] == "2026-01-05" and manifest["days"] == 2


def summary_of(manifest: dict) -> str:
    valid = ", ".join(f"{n} {stream}" for stream, n in manifest["valid_unique"].items())
    return (
        f"generated {manifest['messages']} messages for {manifest['start']}..2026-01-06: {valid} valid; "
        f"{manifest['duplicates']} duplicates, {manifest['late']} late, "
        f"{sum(manifest['rejected'].values())} malformed"
    )


def test_summary_counts_the_sample(sample):
    line = summary(sample)
    m = sample.manifest
    assert line.startswith(f"generated {m['messages']} messages for 2026-03-02..2026-03-08: ")
    assert f"{m['valid_unique']['orders']} orders" in line
    assert line.endswith(f"{sum(m['rejected'].values())} malformed")


def test_main_warns_when_the_range_reaches_the_future(tmp_path, capsys):
    future = (date.today() + timedelta(days=30)).isoformat()
    main(["--start", future, *TINY, "--out", str(tmp_path)])
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "future_timestamp" in err[0]


def test_main_needs_a_destination(capsys):
    code = run_command(main, "python -m localdev.generator", ["--seed", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--out DIR and/or --pubsub-project" in err


@pytest.mark.parametrize(
    "args",
    [["--days", "0"], ["--bad-fraction", "1"], ["--late-fraction", "-0.1"], ["--start", "2026-02-30"]],
)
def test_bad_flag_values_are_refused(args):
    with pytest.raises(UsageError, match=f"argument {args[0]}: "):
        parser().parse_args([*args, "--out", "x"])


def test_flags_reach_the_config():
    args = parser().parse_args(
        ["--seed", "3", "--start", "2026-02-01", "--warehouses", "5", "--max-oversized", "0"]
    )
    config = config_from(args)
    assert (config.seed, config.start, config.warehouses, config.max_oversized) == (3, date(2026, 2, 1), 5, 0)
    assert config.days == 7 and config.bad_fraction == 0.03
