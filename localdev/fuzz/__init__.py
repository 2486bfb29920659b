"""Fuzzing the triage core and the batch pipeline with hostile inputs (``make fuzz``).

``python -m localdev.fuzz`` sends generated hostile file lines through ``line_to_message`` +
``triage`` + rows and checks every outcome's properties, then sends more through the real
pipeline on the local emulators and checks that the run reconciles (see :mod:`localdev.fuzz.cli`).

Modules, by what they hold:

- ``checks``: the properties one input's outcome must have (``line_problems``,
  ``outcome_problems``, ``dead_letter_problems``, ...) and the clock they are judged at (``NOW``);
- ``jsontext``: JSON text the standard library will not write (``Raw`` tokens, ``Pairs`` with
  repeated keys, ``dump``, ``to_bytes`` keeping lone surrogates);
- ``values``: the hostile values inputs are built from (``SPICE``, ``TIMESTAMPS``, ``EXTREMES``,
  ``HOSTILE_KEYS``) and random text and JSON;
- ``hostile``: the generators (``valid_event``, ``mutate``, ``mangle_bytes``,
  ``envelope_lookalike``) and ``HostileInputs``, the seeded stream of hostile lines;
- ``known``: the catalogue of inputs that must be dead-lettered with a given code or loaded
  (``known_inputs``, ``KnownInput``), built from the valid events of :mod:`localdev.samples`
  (``sample``);
- ``runs``: the two runs, ``fuzz_core`` and ``fuzz_pipeline``;
- ``cli``: the command line.

The names below are the ones the tests use.
"""

from localdev.fuzz.checks import IP_KEY, IP_MODES, NOW, dead_letter_problems, line_problems, outcome_problems
from localdev.fuzz.hostile import HostileInputs, for_file, mutate, valid_event
from localdev.fuzz.jsontext import Pairs, Raw, dump, to_bytes
from localdev.fuzz.known import VALID, KnownInput, known_inputs, line_of
from localdev.fuzz.runs import FixedClock
from localdev.fuzz.values import EXTREMES, HOSTILE_KEYS, SPICE, TIMESTAMPS, nested
from localdev.samples import sample

__all__ = [
    "EXTREMES",
    "HOSTILE_KEYS",
    "IP_KEY",
    "IP_MODES",
    "NOW",
    "SPICE",
    "TIMESTAMPS",
    "VALID",
    "FixedClock",
    "HostileInputs",
    "KnownInput",
    "Pairs",
    "Raw",
    "dead_letter_problems",
    "dump",
    "for_file",
    "known_inputs",
    "line_of",
    "line_problems",
    "mutate",
    "nested",
    "outcome_problems",
    "sample",
    "to_bytes",
    "valid_event",
]
