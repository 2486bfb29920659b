"""The run's reconciliation: messages in = loaded + rejected + duplicates, from Beam counters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apache_beam.metrics.metric import MetricsFilter

from schemas import STREAMS
from transforms.counters import NAMESPACE


def counters(result) -> dict[str, int]:
    """Every EventHarbor counter of a finished run: ``name`` for run-wide counters (namespace
    ``eventharbor``) and ``<stream>.<name>`` for per-stream ones (``eventharbor.<stream>``)."""
    totals: dict[str, int] = {}
    for counter in result.metrics().query(MetricsFilter())["counters"]:
        namespace, name = counter.key.metric.namespace, counter.key.metric.name
        if namespace == NAMESPACE:
            key = name
        elif namespace.startswith(f"{NAMESPACE}."):
            key = f"{namespace.removeprefix(NAMESPACE + '.')}.{name}"
        else:
            continue
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[key] = totals.get(key, 0) + (value or 0)
    return totals


def reconcile(totals: dict[str, int]) -> dict[str, Any]:
    """The run's reconciliation (docs/contract.md#once-only), the ``run-summary.json`` of README's
    ``make run`` without its models, from counter totals."""
    # refused: rows BigQuery sent back; a row too large to send is rejected before it is sent.
    loaded = {s: totals.get(f"{s}.sent", 0) - totals.get(f"{s}.refused", 0) for s in STREAMS}
    rejected: dict[str, int] = {}
    for key, value in totals.items():
        stream, _, name = key.rpartition(".")
        if stream and name.startswith("rejected_") and value:
            code = name.removeprefix("rejected_")
            rejected[code] = rejected.get(code, 0) + value
    return {
        "messages_in": totals.get("messages_in", 0),
        "loaded": loaded,
        "rejected": dict(sorted(rejected.items())),
        "duplicates": sum(totals.get(f"{s}.duplicates", 0) for s in STREAMS),
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
