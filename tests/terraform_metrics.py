"""The Cloud Monitoring metric types the alert policies and the dashboard may use, and how to read
them out of a monitoring filter. The list is taken from Google Cloud's metric reference
(cloud.google.com/monitoring/api/metrics_gcp); tests check every filter against it.
"""

from __future__ import annotations

import re

# Metric type -> (monitored resource type, metric kind, metric labels), as Google Cloud's metric
# lists (cloud.google.com/monitoring/api/metrics_gcp) describe them.
KNOWN_METRICS: dict[str, tuple[str, str, set[str]]] = {
    "pubsub.googleapis.com/subscription/oldest_unacked_message_age": ("pubsub_subscription", "GAUGE", set()),
    "pubsub.googleapis.com/subscription/num_undelivered_messages": ("pubsub_subscription", "GAUGE", set()),
    "pubsub.googleapis.com/subscription/sent_message_count": (
        "pubsub_subscription",
        "DELTA",
        {"delivery_type"},
    ),
    "dataflow.googleapis.com/job/data_watermark_age": ("dataflow_job", "GAUGE", {"job_id"}),
    "dataflow.googleapis.com/job/system_lag": ("dataflow_job", "GAUGE", {"job_id"}),
    "dataflow.googleapis.com/job/is_failed": ("dataflow_job", "GAUGE", set()),
    # Beam counters: the running total, labelled metric_name (the counter's name), job_id and
    # ptransform; the counter's namespace is not exported.
    "dataflow.googleapis.com/job/user_counter": (
        "dataflow_job",
        "GAUGE",
        {"metric_name", "job_id", "ptransform"},
    ),
    "bigquerydatatransfer.googleapis.com/transfer_config/completed_runs": (
        "bigquery_dts_config",
        "DELTA",
        {"completion_state", "run_cause"},
    ),
    "bigquerydatatransfer.googleapis.com/transfer_config/last_execution_job_rows": (
        "bigquery_dts_config",
        "GAUGE",
        set(),
    ),
}
RATE_ALIGNERS = {"ALIGN_RATE", "ALIGN_DELTA"}  # valid for DELTA and CUMULATIVE metrics only


def metric_types(filter_text: str) -> list[str]:
    """The metric types a monitoring filter names."""
    return re.findall(r'metric\.type\s*=\s*\\?"([^"\\]+)\\?"', filter_text)


def resource_types(filter_text: str) -> list[str]:
    """The monitored resource types a monitoring filter names."""
    return re.findall(r'resource\.type\s*=\s*\\?"([^"\\]+)\\?"', filter_text)
