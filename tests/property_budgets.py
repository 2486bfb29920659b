"""The example budget of a hypothesis property: fixed and reproducible (derandomised, no example
database, no deadline), scaled by ``FUZZ_SCALE``.

``make test`` runs every property's whole budget (``FUZZ_SCALE`` unset: 1); ``make test-fast`` a
fifth of it (0.2); ``FUZZ_SCALE=10`` a longer local run. ``make fuzz`` is the long seeded campaign.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings


def fuzz_scale() -> float:
    """``FUZZ_SCALE`` from the environment (1 when unset); a number above zero."""
    text = os.environ.get("FUZZ_SCALE", "1")
    try:
        scale = float(text)
    except ValueError:
        scale = 0.0
    if not scale > 0:
        raise pytest.UsageError(
            f"FUZZ_SCALE={text!r}: set it to a number above zero (1 runs each property's whole budget)"
        )
    return scale


SCALE = fuzz_scale()


def budget(examples: int) -> settings:
    """``examples`` examples times ``FUZZ_SCALE`` (at least one), derandomised, no database, no deadline."""
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
