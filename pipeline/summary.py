"""The run's reconciliation: messages in = loaded + rejected + duplicates, from Beam counters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apache_beam.metrics.metric import MetricsFilter

from pipeline.bigquery_io import STREAMS
from transforms.parse import NAMESPACE


def counters(result) -> dict[str, int]:
    """Every EventHarbor counter of a finished run, by name."""
    found = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    totals: dict[str, int] = {}
    for counter in found:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (value or 0)
    return totals


def reconcile(totals: dict[str, int]) -> dict[str, Any]:
    """The summary of SPEC section 8 from counter totals."""
    loaded = {s: totals.get(f"sent_{s}", 0) - totals.get(f"load_rejected_{s}", 0) for s in STREAMS}
    rejected = {
        name.removeprefix("rejected_"): value
        for name, value in sorted(totals.items())
        if name.startswith("rejected_") and value
    }
    duplicates = sum(totals.get(f"duplicates_{s}", 0) for s in STREAMS)
    return {
        "messages_in": totals.get("messages_in", 0),
        "loaded": loaded,
        "rejected": rejected,
        "duplicates": duplicates,
    }


def is_balanced(summary: dict[str, Any]) -> bool:
    accounted = sum(summary["loaded"].values()) + sum(summary["rejected"].values()) + summary["duplicates"]
    return accounted == summary["messages_in"]


def format_summary(summary: dict[str, Any]) -> str:
    loaded = sum(summary["loaded"].values())
    rejected = sum(summary["rejected"].values())
    lines = [
        f"messages in {summary['messages_in']:>8}",
        f"  loaded    {loaded:>8}  " + "  ".join(f"{k}={v}" for k, v in summary["loaded"].items()),
        f"  rejected  {rejected:>8}  " + "  ".join(f"{k}={v}" for k, v in summary["rejected"].items()),
        f"  duplicates{summary['duplicates']:>8}",
        "reconciled: in = loaded + rejected + duplicates"
        if is_balanced(summary)
        else "NOT RECONCILED: in != loaded + rejected + duplicates",
    ]
    return "\n".join(lines)


def write_summary(summary: dict[str, Any], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
