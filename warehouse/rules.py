"""The business rules of the models: ``sql/rules.sql``, the one place each is defined.

The file holds ``DECLARE`` statements (windows: how many days back a rule looks) followed by
``CREATE TEMP FUNCTION`` statements (classifications), each after a comment saying what it
defines. A step's script starts with the definitions its SQL uses (:func:`preamble`); the
scheduled query starts with all of them. :func:`summary` states a rule for the docs and the
tests that check the schema descriptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

RULES_FILE = Path(__file__).resolve().parents[1] / "sql" / "rules.sql"


@dataclass(frozen=True)
class Definition:
    """One statement of ``sql/rules.sql``."""

    name: str
    kind: str  # "constant" (a DECLAREd script variable) or "function" (a temporary SQL function)
    sql: str  # the statement as written, ending with ";"
    comment: str  # the comment above it, as one line
    tree: exp.Expression

    @property
    def value(self) -> int:
        """A constant's value."""
        if self.kind != "constant":
            raise TypeError(f"{self.name} is a function, not a constant")
        return int(self.tree.expressions[0].args["default"].this)

    @property
    def numbers(self) -> set[int]:
        """Every integer literal of the definition."""
        return {int(n.this) for n in self.tree.find_all(exp.Literal) if n.is_int}

    @property
    def body(self) -> exp.Expression:
        """A function's body, without its outer parentheses."""
        if self.kind != "function":
            raise TypeError(f"{self.name} is a constant, not a function")
        return self.tree.expression.unnest()


def _definition(comment: list[str], statement: str) -> Definition:
    trees = [t for t in sqlglot.parse(statement, read="bigquery") if t is not None]
    if len(trees) != 1:
        raise ValueError(f"{RULES_FILE}: one statement per definition, got {statement!r}")
    tree = trees[0]
    if isinstance(tree, exp.Declare) and len(tree.expressions) == 1:
        item = tree.expressions[0]
        if not isinstance(item.args.get("default"), exp.Literal) or not item.args["default"].is_int:
            raise ValueError(f"{RULES_FILE}: a constant is an INT64 literal: {statement!r}")
        name, kind = item.this[0].name, "constant"
    elif isinstance(tree, exp.Create) and tree.kind == "FUNCTION" and "TEMP" in statement.upper():
        name, kind = tree.this.this.name, "function"
    else:
        raise ValueError(f"{RULES_FILE}: expected DECLARE or CREATE TEMP FUNCTION, got {statement!r}")
    if not comment:
        raise ValueError(f"{RULES_FILE}: {name} needs a comment saying what it defines")
    text = " ".join(line.lstrip("-").strip() for line in comment)
    return Definition(name, kind, statement.strip(), text, tree)


@cache
def definitions() -> tuple[Definition, ...]:
    """The definitions of ``sql/rules.sql`` in file order (all constants first, as BigQuery needs)."""
    blocks = [b for b in re.split(r"\n\s*\n", RULES_FILE.read_text()) if b.strip()]
    found = []
    for block in blocks[1:]:  # the first block is the file's header comment
        lines = block.strip().splitlines()
        comment = [line for line in lines if line.lstrip().startswith("--")]
        statement = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
        if lines[: len(comment)] != comment:
            raise ValueError(f"{RULES_FILE}: a definition's comment goes above it: {block!r}")
        found.append(_definition(comment, statement))
    kinds = [d.kind for d in found]
    if kinds != sorted(kinds):  # "constant" < "function"
        raise ValueError(f"{RULES_FILE}: every DECLARE must come before the first function")
    names = [d.name for d in found]
    if len(set(names)) != len(names):
        raise ValueError(f"{RULES_FILE}: a name is defined twice: {names}")
    return tuple(found)


def definition(name: str) -> Definition:
    for candidate in definitions():
        if candidate.name == name:
            return candidate
    raise KeyError(f"{name} is not defined in {RULES_FILE}")


def _mentions(sql: str, name: str) -> bool:
    return re.search(rf"(?<![\w.`]){re.escape(name)}\b", sql) is not None


def used_by(sql: str) -> list[Definition]:
    """The definitions ``sql`` names, and those they name in turn, in file order."""
    wanted: set[str] = set()
    pending = [sql]
    while pending:
        text = pending.pop()
        for candidate in definitions():
            if candidate.name not in wanted and _mentions(text, candidate.name):
                wanted.add(candidate.name)
                pending.append(candidate.sql)
    return [d for d in definitions() if d.name in wanted]


def preamble(sql: str) -> str:
    """The definitions ``sql`` uses, as statements to put before it (empty when none)."""
    return "".join(d.sql + "\n" for d in used_by(sql))


def _ladder(case: exp.Case) -> str | None:
    """``a < 7 <= b < 14 <= c`` for a CASE that maps thresholds of one argument to labels."""
    steps = []
    for branch in case.args["ifs"]:
        test, label = branch.this, branch.args["true"]
        if not (isinstance(test, exp.GTE | exp.LT) and isinstance(test.expression, exp.Literal)):
            return None
        if not isinstance(label, exp.Literal) or not label.is_string:
            return None
        steps.append((type(test), int(test.expression.this), label.this))
    default = case.args.get("default")
    if not steps or not isinstance(default, exp.Literal) or len({s[0] for s in steps}) != 1:
        return None
    labels = [s[2] for s in steps] + [default.this]
    thresholds = [s[1] for s in steps]
    if steps[0][0] is exp.GTE:  # highest first: WHEN x >= 5000 THEN 'top' ... ELSE 'bottom'
        labels, thresholds = labels[::-1], thresholds[::-1]
    if thresholds != sorted(thresholds):
        return None
    text = labels[0]
    for threshold, label in zip(thresholds, labels[1:], strict=True):
        text += f" < {threshold} <= {label}"
    return text


def summary(name: str) -> str:
    """The rule in one line: a constant's value, a CASE ladder (``bronze < 200 <= silver …``),
    or the function's body."""
    found = definition(name)
    if found.kind == "constant":
        return str(found.value)
    body = found.body
    if isinstance(body, exp.Case):
        ladder = _ladder(body)
        if ladder:
            return ladder
    return body.sql("bigquery")
