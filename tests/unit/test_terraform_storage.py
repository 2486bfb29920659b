"""Cloud Storage in terraform/: private buckets, the versioned raw archive ageing into colder
classes, temp/ expiring in the Dataflow bucket (offline, python-hcl2).
"""

from __future__ import annotations

from tests.terraform_hcl import attr, blocks, expr, is_meta, resources_of


def _lifecycle(bucket: dict) -> list[tuple[dict, dict]]:
    rules = []
    for rule in blocks(bucket, "lifecycle_rule"):
        (action,) = blocks(rule, "action")
        (condition,) = blocks(rule, "condition")
        rules.append(({k: attr(action, k) for k in action if not is_meta(k)}, condition))
    return rules


def test_archive_bucket_is_private_versioned_and_ages_into_colder_classes():
    buckets = resources_of("google_storage_bucket")
    assert set(buckets) == {"archive", "dataflow", "logs"}
    for name, bucket in buckets.items():
        assert attr(bucket, "uniform_bucket_level_access") is True, name
        assert attr(bucket, "public_access_prevention") == "enforced", name
    archive = buckets["archive"]
    (versioning,) = blocks(archive, "versioning")
    assert attr(versioning, "enabled") is True
    rules = _lifecycle(archive)
    by_action = {(a["type"], a.get("storage_class")): c for a, c in rules}
    nearline = by_action[("SetStorageClass", "NEARLINE")]
    assert expr(attr(nearline, "age")) == "${var.archive_nearline_after_days}"
    assert attr(nearline, "matches_storage_class") == ["STANDARD"]
    coldline = by_action[("SetStorageClass", "COLDLINE")]
    assert expr(attr(coldline, "age")) == "${var.archive_coldline_after_days}"
    assert attr(coldline, "matches_storage_class") == ["NEARLINE"]
    deletes = [c for a, c in rules if a["type"] == "Delete"]
    assert any(expr(attr(c, "age", "")) == "${var.archive_delete_after_days}" for c in deletes)
    assert any("days_since_noncurrent_time" in c for c in deletes), "noncurrent versions must expire"
    (temp_rule,) = _lifecycle(buckets["dataflow"])
    assert temp_rule[0]["type"] == "Delete" and attr(temp_rule[1], "matches_prefix") == ["temp/"]
