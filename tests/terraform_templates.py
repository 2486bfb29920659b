"""The tests' rendering of the files Terraform fills in with templatefile().

terraform/generated/daily_models.sql (the scheduled models script) and
terraform/dashboards/pipeline.json (the dashboard) hold only ``${name}`` placeholders, so a
substitution renders them as templatefile() does. tests/infra/test_terraform_cli.py checks that
Terraform's own rendering is the same; the unit tests check what these functions render.
"""

from __future__ import annotations

import re

from tests.terraform_hcl import TF_DIR

DASHBOARD = TF_DIR / "dashboards" / "pipeline.json"

# Values of the dashboard's placeholders, as monitoring.tf passes them for one deployment.
DASHBOARD_VALUES = {
    "env": "prod",
    "job_name": "eventharbor-streaming",
    "subscription_regex": "orders-dataflow|inventory-dataflow|user_activity-dataflow|events-dataflow",
    "dead_letter_subscription": "eventharbor-dead-letter-hold",
    "models_config_regex": "6543f1a2-0000-2222-b111-001a11442e9c",
    "check_config_regex": "11111111-0000-2222-b111-001a11442e9c|22222222-0000-2222-b111-001a11442e9c",
}


def render_like_terraform(template: str, values: dict[str, str]) -> str:
    """templatefile() for a template holding only ``${name}`` placeholders."""
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)


def render_dashboard(values: dict[str, str] = DASHBOARD_VALUES) -> str:
    """templatefile() of a template with only ${name} placeholders and $${ escapes."""
    text = re.sub(r"(?<!\$)\$\{(\w+)\}", lambda m: values[m.group(1)], DASHBOARD.read_text())
    return text.replace("$${", "${")
