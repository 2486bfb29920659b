"""The whole sample: world, simulation and defects put together in arrival order, with its manifest."""

from __future__ import annotations

import random
from collections import Counter

from localdev.generator.defects import DEFECT_CYCLE, Defects
from localdev.generator.sample import GeneratorConfig, Sample, SampleMessage
from localdev.generator.simulation import Event, Simulation, arrivals, duplicates
from localdev.generator.world import build_world
from schemas import STREAMS


def _counts(codes: list[str]) -> dict[str, int]:
    """Messages per code, in cycle order, codes that occur only."""
    counted = Counter(codes)
    return {code: counted[code] for code in DEFECT_CYCLE if counted[code]}


def manifest(config: GeneratorConfig, events: list[Event], messages: list[SampleMessage]) -> dict:
    """The ground truth a pipeline run over the sample is checked against."""
    per_stream = Counter(e.stream for e in events)
    bad = [m for m in messages if m.error_code]
    return {
        "seed": config.seed,
        "start": config.start.isoformat(),
        "days": config.days,
        "messages": len(messages),
        "valid_unique": {stream: per_stream[stream] for stream in STREAMS},
        "duplicates": sum(m.duplicate for m in messages),
        "late": sum(m.late for m in messages),
        "rejected": _counts([m.error_code for m in bad]),
        "rejected_on_pubsub": _counts([m.pubsub_error_code for m in bad]),
        "dates": sorted({e.time.date().isoformat() for e in events}),
    }


def generate(config: GeneratorConfig | None = None) -> Sample:
    """The whole sample for ``config``: messages in arrival order and the manifest."""
    config = config or GeneratorConfig()
    world = build_world(config, random.Random(f"{config.seed}:world"))
    events = Simulation(config, world, random.Random(f"{config.seed}:events")).run()
    valid = arrivals(events, config, random.Random(f"{config.seed}:late"))
    resent = duplicates(valid, config, random.Random(f"{config.seed}:duplicates"))
    bad_count = (
        max(len(DEFECT_CYCLE), round(config.bad_fraction * len(events))) if config.bad_fraction > 0 else 0
    )
    bad = Defects(config, world, random.Random(f"{config.seed}:bad")).messages(bad_count)
    unordered = valid + resent + bad
    # Ties keep creation order, which also puts every duplicate after its original.
    order = sorted(range(len(unordered)), key=lambda i: (unordered[i].arrival, i))
    messages = [unordered[i] for i in order]
    return Sample(messages, manifest(config, events, messages))
