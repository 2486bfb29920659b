"""Deterministic sample data for EventHarbor: orders, inventory and user activity.

``python -m localdev.generator --out DIR`` writes one JSON Lines file per arrival day
(``DIR/events-YYYY-MM-DD.jsonl``: the three streams mixed, in arrival order) plus
``DIR/manifest.json`` with the ground truth the pipeline's results can be checked
against. ``--pubsub-project`` publishes the same messages to Pub/Sub. The same flags
always give byte-identical output: every choice comes from ``random.Random`` seeded
with ``--seed``; the wall clock is read only for the default ``--start``.

The events tell one coherent story: customers browse in sessions, add to cart and
order; orders move pending -> processing -> shipped -> delivered (or get cancelled);
shipping an order moves stock out of a warehouse, which is restocked now and then.
A few customers move house, a few product prices change, some customers stop
buying: the SCD2, cumulative and balance models have something to show. Mixed in
are duplicate re-sends, late arrivals and malformed messages with exactly one
defect each, cycling through every dead-letter code an input can earn.

Modules, by what they hold:

- ``sample``: ``GeneratorConfig``, ``SampleMessage`` (one generated message and the truth
  about it) and ``Sample``;
- ``render``: how producers write events (JSON, money, timestamp styles);
- ``world``: customers, products, addresses, the catalogue;
- ``simulation``: sessions, orders, stock movements and the arrival timeline;
- ``defects``: the malformed messages and their cycle through the codes;
- ``assemble``: ``generate`` and the manifest;
- ``output``: ``write_files`` and ``publish``;
- ``cli``: the command line.

Other code calls :func:`generate` (then :func:`write_files` or :func:`publish`).
"""

from localdev.generator.assemble import generate
from localdev.generator.output import publish, write_files
from localdev.generator.sample import GeneratorConfig, Sample, SampleMessage

__all__ = ["GeneratorConfig", "Sample", "SampleMessage", "generate", "publish", "write_files"]
