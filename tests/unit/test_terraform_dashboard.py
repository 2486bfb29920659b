"""Offline checks of terraform/dashboards/pipeline.json and its resource in monitoring.tf.

The dashboard renders (tests/terraform_templates.py; Terraform's own templatefile() renders it the
same, tests/infra/test_terraform_cli.py) to JSON whose every chart names a known metric
(tests/terraform_metrics.py) with an aligner its kind allows, and its charts cover throughput,
dead letters, backlog, freshness and the scheduled models.
"""

from __future__ import annotations

import json
import re

from tests.terraform_hcl import attr, expr, resources_of
from tests.terraform_metrics import KNOWN_METRICS, RATE_ALIGNERS, metric_types, resource_types
from tests.terraform_templates import DASHBOARD, DASHBOARD_VALUES, render_dashboard


def _dashboard_resource() -> dict:
    (dashboard,) = resources_of("google_monitoring_dashboard").values()
    return dashboard


def test_dashboard_is_read_from_the_repository_with_every_placeholder_passed():
    dashboard = _dashboard_resource()
    assert expr(attr(dashboard, "count")) == "${local.monitoring}"
    call = expr(attr(dashboard, "dashboard_json"))
    assert call.startswith('${templatefile("${path.module}/dashboards/pipeline.json",'), call
    passed = set(re.findall(r"[{,]'?(\w+)'?[=:]", call.split('",', 1)[1]))
    placeholders = set(re.findall(r"(?<!\$)\$\{(\w+)\}", DASHBOARD.read_text()))
    assert passed == placeholders == set(DASHBOARD_VALUES), (passed, placeholders)


def _promql_metrics(query: str) -> list[str]:
    """Cloud Monitoring metric types a PromQL query reads, written domain_com:path_name."""
    legacy = {}
    for metric in KNOWN_METRICS:
        domain, path = metric.split("/", 1)
        legacy[domain.replace(".", "_") + ":" + re.sub(r"[./]", "_", path)] = metric
    names = re.findall(r"([a-z_]+_googleapis_com:[a-z_]+)\{", query)
    assert names, query
    return [legacy.get(name, name) for name in names]


def dashboard_charts(text: str) -> list[tuple[str, list[str]]]:
    """(title, metric types) of every chart; every widget that is not text must be a chart."""
    charts = []
    for tile in json.loads(text)["mosaicLayout"]["tiles"]:
        widget = tile["widget"]
        if "text" in widget:
            continue
        assert set(widget) == {"title", "xyChart"}, widget
        metrics = []
        for dataset in widget["xyChart"]["dataSets"]:
            query = dataset["timeSeriesQuery"]
            if "prometheusQuery" in query:
                metrics += _promql_metrics(query["prometheusQuery"])
                continue
            spec = query["timeSeriesFilter"]
            (metric,) = metric_types(spec["filter"])
            resource = KNOWN_METRICS.get(metric, ("?", "?", set()))
            assert resource_types(spec["filter"]) == [resource[0]], (widget["title"], metric)
            aligner = spec["aggregation"]["perSeriesAligner"]
            assert resource[1] != "GAUGE" or aligner not in RATE_ALIGNERS, (widget["title"], aligner)
            for field in spec["aggregation"].get("groupByFields", []):
                label = field.split(".")[-1]
                assert field.startswith("resource.") or label in resource[2], (widget["title"], field)
            metrics.append(metric)
        charts.append((widget["title"], metrics))
    return charts


def test_dashboard_json_parses_and_every_chart_names_a_known_metric():
    text = render_dashboard()
    dashboard = json.loads(text)
    assert dashboard["displayName"] == "EventHarbor prod: pipeline"
    layout = dashboard["mosaicLayout"]
    occupied = set()
    for tile in layout["tiles"]:
        assert tile["xPos"] + tile["width"] <= layout["columns"] == 48, tile["widget"].get("title")
        cells = {
            (x, y)
            for x in range(tile["xPos"], tile["xPos"] + tile["width"])
            for y in range(tile["yPos"], tile["yPos"] + tile["height"])
        }
        assert not cells & occupied, f"tiles overlap at {tile['widget'].get('title')}"
        occupied |= cells
    charts = dashboard_charts(text)
    assert len(charts) >= 10
    for title, metrics in charts:
        assert metrics and all(m in KNOWN_METRICS for m in metrics), (title, metrics)
    assert "eventharbor-streaming" in text and "${resource.labels.subscription_id}" in text


def test_dashboard_covers_throughput_dead_letters_backlog_freshness_and_models():
    charts = dashboard_charts(render_dashboard())
    sections = {
        "Throughput": {
            "pubsub.googleapis.com/subscription/sent_message_count",
            "dataflow.googleapis.com/job/user_counter",
        },
        "Dead letters": {"dataflow.googleapis.com/job/user_counter"},
        "Backlog": {"pubsub.googleapis.com/subscription/oldest_unacked_message_age"},
        "Freshness": {
            "dataflow.googleapis.com/job/data_watermark_age",
            "dataflow.googleapis.com/job/system_lag",
        },
        "Scheduled models": {"bigquerydatatransfer.googleapis.com/transfer_config/completed_runs"},
    }
    for section, needed in sections.items():
        seen = {m for title, metrics in charts if title.lower().startswith(section.lower()) for m in metrics}
        assert needed <= seen, f"dashboard: the {section} charts must show {sorted(needed - seen)}"
    text = render_dashboard()
    assert 'metric_name=~\\"rejected_.*\\"' in text, (
        "dead letters by error code: the rejected_<code> counters"
    )
    assert "sum by (metric_name)" in text
