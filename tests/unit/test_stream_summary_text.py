"""make stream's printed summary explains the pane labels a local run shows (issue: EARLY panes
without --early_firing_s looked like a contradiction of the README)."""

from __future__ import annotations

from localdev.live_stream import PANES_NOTE, format_stream


def result(panes: dict[str, int]) -> dict:
    return {
        "messages_in": 10,
        "loaded": {"orders": 9},
        "rejected": {"invalid_json": 1},
        "duplicates": 0,
        "models": {"daily_active_users": 1},
        "stream": {
            "published": 10,
            "feed_seconds": 1.0,
            "rate_published_per_s": 10.0,
            "rate_target_per_s": 10,
            "stopped_by": "duration",
            "read": 10,
            "lost": 0,
            "archived": 10,
            "drain_seconds": 1.0,
            "bigquery": {"loaded": {"orders": 9}, "dead_letters": {"invalid_json": 1}},
            "metrics": {
                "rows": sum(panes.values()),
                "rows_per_loaded_event": 0.5,
                "panes": panes,
                "windows": 3,
                "windows_matching_loaded": 3,
                "occurrences": {"orders": 9},
            },
            "event_dates": ["2026-12-07"],
            "pids": {"pipeline": 1},
            "left_running": [],
            "checks": {"drained": True, "bigquery_holds_the_counts": True},
        },
    }


def test_early_panes_come_with_the_reason_and_only_then():
    text = format_stream(result({"EARLY": 2, "ON_TIME": 3}))
    assert "panes EARLY 2, ON_TIME 3" in text and PANES_NOTE in text
    assert "Dataflow labels them LATE" in PANES_NOTE and "--early_firing_s" in PANES_NOTE
    assert PANES_NOTE not in format_stream(result({"ON_TIME": 3, "LATE": 1}))
