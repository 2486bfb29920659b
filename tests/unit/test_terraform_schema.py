"""terraform/ against the google provider's published schema, offline (tests/terraform_schema.py).

The schema comes from the jsii assemblies of cdktn-provider-google / -google-beta (dev
dependencies, pinned in setup.py to the newest google 7.x, which versions.tf's ``~> 7.10``
resolves to): every google_* resource and data source must exist in the provider it uses, with
only arguments and blocks that exist at their level and every required one present.
"""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from tests.terraform_schema import (
    ROOT,
    SCHEMA_PACKAGES,
    ProviderSchema,
    check_directory,
    check_source,
    checked_blocks,
    load_schema,
)

TF_DIR = ROOT / "terraform"


@pytest.fixture(scope="module")
def schemas(request, tmp_path_factory) -> dict[str, ProviderSchema]:
    cache = getattr(request.config, "cache", None)
    cache_dir = (
        Path(cache.mkdir("terraform-schema")) if cache else tmp_path_factory.mktemp("terraform-schema")
    )
    return {provider: load_schema(provider, cache_dir) for provider in SCHEMA_PACKAGES}


def _constraint(provider: str) -> tuple[int, int]:
    text = (TF_DIR / "versions.tf").read_text()
    block = re.search(rf'\b{re.escape(provider)} = \{{[^}}]*version\s*=\s*"~> (\d+)\.(\d+)"', text)
    assert block, f"versions.tf: no '~> X.Y' constraint for {provider}"
    return int(block.group(1)), int(block.group(2))


def test_schema_packages_match_the_provider_constraint_of_versions_tf(schemas):
    for provider, schema in schemas.items():
        major, minor = _constraint(provider)
        version = tuple(int(part) for part in schema.provider_version.split(".")[:2])
        assert version[0] == major and version[1] >= minor, (
            f"{schema.package} {schema.package_version} describes {provider} {schema.provider_version}, "
            f"outside versions.tf's ~> {major}.{minor}: pin a cdktn package of that series in setup.py"
        )
        assert len(schema.resources) > 1000 and len(schema.data_sources) > 300, schema.package
        print(f"{provider} {schema.provider_version} from {schema.package} {schema.package_version}")


def test_every_google_block_in_terraform_matches_the_provider_schema(schemas):
    problems = check_directory(TF_DIR, schemas)
    assert not problems, "terraform/ does not match the google provider schema:\n" + "\n".join(problems)


def test_the_check_covers_every_google_resource_and_data_source(schemas):
    """Nothing is skipped: the Lark-based walk sees every block python-hcl2 sees."""
    expected = set()
    for path in TF_DIR.glob("*.tf"):
        doc = hcl2.load(path.open())
        for kind in ("resource", "data"):
            for entry in doc.get(kind, []):
                for rtype, named in entry.items():
                    if rtype.strip('"').startswith("google_"):
                        expected |= {f"{kind} {rtype.strip(chr(34))}.{n.strip(chr(34))}" for n in named}
    checked = checked_blocks(TF_DIR)
    assert len(checked) == len(set(checked)) and set(checked) == expected, sorted(set(checked) ^ expected)
    assert len(checked) >= 40, len(checked)


SNIPPET = """
provider "google" {
  project = "p"
}

resource "google_pubsub_subscription" "misspelt" {
  name                 = "s"
  topic                = "t"
  ack_deadline_second  = 60

  retry_policy {
    minimum_backof = "10s"
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_storage_bucket" "missing_location" {
  name = "b"
}

resource "google_monitoring_alert_policy" "no_conditions" {
  display_name = "x"
  combiner     = "OR"
}

resource "google_pubsub_topic" "block_as_argument" {
  name                   = "t"
  message_storage_policy = {}
  labels {
    a = "b"
  }
}

resource "google_bigquery_table" "once_only" {
  dataset_id = "d"
  table_id   = "t"

  time_partitioning {
    type = "DAY"
  }

  time_partitioning {
    type = "HOUR"
  }

  dynamic "encryption_configuration" {
    for_each = []
    content {
      kms_key_name = "k"
    }
  }
}

resource "google_project_service_identity" "needs_beta" {
  service = "pubsub.googleapis.com"
}

resource "google_pubsub_topicc" "unknown_type" {
  name = "t"
}

data "google_project" "misspelt_data" {
  projectt_id = "p"
}
"""


def test_the_check_catches_misspelt_and_missing_arguments(schemas):
    problems = check_source(SNIPPET, schemas, "snippet.tf")
    text = "\n".join(problems)
    expected = [
        # a misspelt argument, top level and in a nested block, with a suggestion
        "snippet.tf:9: resource google_pubsub_subscription.misspelt: unsupported argument "
        "'ack_deadline_second' (did you mean 'ack_deadline_seconds'?)",
        "snippet.tf:12: resource google_pubsub_subscription.misspelt > retry_policy: unsupported argument "
        "'minimum_backof' (did you mean 'minimum_backoff'?)",
        # a missing required argument, and a missing required block
        "snippet.tf:20: resource google_storage_bucket.missing_location: "
        "required argument 'location' is missing",
        "snippet.tf:24: resource google_monitoring_alert_policy.no_conditions: "
        "required block 'conditions' is missing",
        # a block written as an argument and the other way round
        "message_storage_policy is a block, not an argument",
        "labels is an argument, not a block",
        # a block that may appear once
        "resource google_bigquery_table.once_only: block 'time_partitioning' may appear at most once",
        # a beta-only resource on the GA provider, an unknown type, a data source's argument
        "resource type 'google_project_service_identity' does not exist in google 7.",
        "(it is in google-beta: set provider = google-beta)",
        "resource type 'google_pubsub_topicc' does not exist",
        "data google_project.misspelt_data: unsupported argument 'projectt_id'",
    ]
    missing = [line for line in expected if line not in text]
    assert not missing, f"expected findings missing: {missing}\nall findings:\n{text}"
    # Meta-arguments, lifecycle, a dynamic block and a correct provider block are not findings.
    assert (
        "lifecycle" not in text and "encryption_configuration" not in text and "provider google" not in text
    )
    assert len(problems) == len(expected) - 1, text  # the beta hint is part of its type finding


def test_a_correct_snippet_has_no_findings(schemas):
    good = """
resource "google_project_service_identity" "agent" {
  provider = google-beta
  service  = "pubsub.googleapis.com"
}

resource "google_pubsub_subscription" "ok" {
  for_each = toset(["a"])
  name     = each.key
  topic    = "t"

  dynamic "dead_letter_policy" {
    for_each = [1]
    content {
      dead_letter_topic     = "d"
      max_delivery_attempts = 5
    }
  }

  depends_on = [google_project_service_identity.agent]
}
"""
    assert check_source(good, schemas, "good.tf") == []
