"""Option errors name the option; the reconciliation adds up the counters."""

from __future__ import annotations

import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipeline import main
from pipeline.command_line import PROG
from pipeline.commands import run_command
from pipeline.options import OptionsError, check_options
from pipeline.reconciliation import format_summary, is_balanced, reconcile
from pipeline.sources import check_inputs_exist


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--project=p"], "--input"),
        (["--project=p", "--source=pubsub"], "--subscriptions"),
        (["--project=p", "--source=pubsub", "--subscriptions=orders-sub"], "projects/P/subscriptions/S"),
        (["--project=p", "--input=x", "--ip_mode=hash"], "--ip_hash_key"),
        (["--project=p", "--input=x", "--window_size_s=5", "--window_period_s=10"], "--window_size_s"),
        (["--input=x"], "--project"),
    ],
)
def test_bad_options_fail_naming_the_option(argv, named, monkeypatch):
    monkeypatch.delenv("EVENTHARBOR_IP_HASH_KEY", raising=False)
    with pytest.raises(OptionsError, match=named.replace("/", ".")):
        check_options(PipelineOptions(argv))


def test_pubsub_source_turns_on_streaming():
    options = PipelineOptions(
        ["--project=p", "--source=pubsub", "--subscriptions=projects/p/subscriptions/s"]
    )
    check_options(options)
    assert options.view_as(StandardOptions).streaming is True


def test_hash_key_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("EVENTHARBOR_IP_HASH_KEY", "k")
    assert check_options(PipelineOptions(["--project=p", "--input=x", "--ip_mode=hash"])).ip_mode == "hash"


def test_reconciliation_from_counters():
    totals = {
        "messages_in": 21,
        "orders.read": 10,
        "inventory.read": 5,
        "user_activity.read": 4,
        "unknown.read": 2,
        "orders.sent": 7,
        "inventory.sent": 5,
        "user_activity.sent": 3,
        "orders.rejected_load_rejected": 1,
        "orders.refused": 1,
        "unknown.rejected_invalid_json": 2,
        "orders.rejected_missing_field": 1,
        "orders.duplicates": 2,
        "user_activity.duplicates": 1,
        "archived_messages": 21,
    }
    summary = reconcile(totals)
    assert summary == {
        "messages_in": 21,
        "loaded": {"orders": 6, "inventory": 5, "user_activity": 3},
        "rejected": {"invalid_json": 2, "load_rejected": 1, "missing_field": 1},
        "duplicates": 3,
    }
    assert is_balanced(summary)
    assert "reconciled" in format_summary(summary).splitlines()[-1]
    summary["messages_in"] = 22
    assert not is_balanced(summary)
    assert format_summary(summary).splitlines()[-1].startswith("NOT RECONCILED")


def test_input_globs_that_match_nothing_are_named_before_the_run(tmp_path, capsys):
    (tmp_path / "events-1.jsonl").write_text("{}\n")
    present, missing = str(tmp_path / "events-*.jsonl"), str(tmp_path / "nope" / "*.jsonl")
    check_inputs_exist([present])
    with pytest.raises(OptionsError, match=r"--input: no file matches .*nope/\*\.jsonl; check the path"):
        check_inputs_exist([present, missing])

    assert run_command(main.main, PROG, ["--project=p", f"--input={present},{missing}"]) == 2
    err = capsys.readouterr().err
    assert f"no file matches {missing};" in err and err.count("\n") == 1


def _labels(argv: list[str]) -> set[str]:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(argv)
    pipeline = beam.Pipeline(options=options)
    main.build_pipeline(pipeline, options)
    labels: set[str] = set()

    class Collect(beam.pipeline.PipelineVisitor):
        def enter_composite_transform(self, node):
            labels.add(node.full_label)

        def visit_transform(self, node):
            labels.add(node.full_label)

    pipeline.visit(Collect())
    return labels


def test_progress_printing_is_in_the_graph_only_when_asked_for(tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    argv = ["--project=my-project", "--source=files", f"--input={tmp_path / 'in.jsonl'}"]
    assert "ReadFiles/Progress" not in _labels(argv)
    assert "ReadFiles/Progress" in _labels([*argv, "--progress_every=10"])
