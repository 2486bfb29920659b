"""Reading terraform/ for the tests: its paths, its HCL as python-hcl2 parses it, and what it reads.

Two distributions install the module ``hcl2``: python-hcl2 (quoted string literals and block
labels, plain attribute values) and checkov's bc-python-hcl2 (every attribute value wrapped in a
one-element list). These helpers read both the same way. Values are expressions as written
(``${var.x}``), not evaluated: only Terraform evaluates them (tests/infra/test_terraform_cli.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[1]
TF_DIR = ROOT / "terraform"
SCHEMAS_DIR = ROOT / "schemas"
SCRIPT_FILE = TF_DIR / "generated" / "daily_models.sql"
ORDER_FILE = TF_DIR / "generated" / "daily_models.json"
DEPLOY_SCRIPT = ROOT / "scripts" / "deploy_pipeline.sh"
CATALOG: dict[str, dict[str, Any]] = json.loads((SCHEMAS_DIR / "tables.json").read_text())

ATTRIBUTES_WRAPPED = isinstance(hcl2.loads("probe = 1\n")["probe"], list)


def is_meta(key: str) -> bool:
    """Whether a parsed key is parser metadata (``__start_line__``), not HCL."""
    return key.startswith("__") and key.endswith("__")


def unquote(value: Any) -> Any:
    """A quoted string literal as its text; anything else unchanged."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def clean(value: Any) -> Any:
    """A parsed value with quotes, metadata keys and parser differences removed."""
    if isinstance(value, dict):
        return {unquote(k): clean(v) for k, v in value.items() if not is_meta(k)}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return unquote(value)


def attr(body: dict, name: str, default: Any = KeyError) -> Any:
    """The value of attribute ``name`` of a block body."""
    if name not in body:
        if default is KeyError:
            raise KeyError(f"attribute {name!r} missing; has {sorted(k for k in body if not is_meta(k))}")
        return default
    value = body[name]
    if ATTRIBUTES_WRAPPED:
        value = value[0]
    return clean(value)


def blocks(body: dict, name: str) -> list[dict]:
    """The nested blocks ``name`` of a block body."""
    return list(body.get(name, []))


def expr(value: Any) -> str:
    """An expression as comparable text: no whitespace, HCL null (bc-python-hcl2 prints None)."""
    return re.sub(r"\bNone\b", "null", re.sub(r"\s+", "", str(value)))


def parse(path: Path) -> dict:
    """One .tf or .tfvars file as the hcl2 module parses it."""
    with path.open() as f:
        return hcl2.load(f)


def tf_files() -> list[Path]:
    """The *.tf files of terraform/ (not envs/ or generated/)."""
    return sorted(TF_DIR.glob("*.tf"))


def load_all() -> list[tuple[Path, dict]]:
    """(path, parsed document) of every file of tf_files()."""
    return [(path, parse(path)) for path in tf_files()]


def labelled(doc: dict, kind: str):
    """(type, name, body) for resources/data, or (name, None, body) for variable/output."""
    for entry in doc.get(kind, []):
        for first, inner in entry.items():
            if is_meta(first):
                continue
            if kind in ("resource", "data"):
                for name, body in inner.items():
                    if not is_meta(name):
                        yield unquote(first), unquote(name), body
            else:
                yield unquote(first), None, inner


def resources(kind: str = "resource") -> dict[tuple[str, str], dict]:
    """{(type, name): body} of every resource (or, with kind="data", data source)."""
    found = {}
    for _, doc in load_all():
        for rtype, name, body in labelled(doc, kind):
            found[(rtype, name)] = body
    return found


def resources_of(rtype: str) -> dict[str, dict]:
    """{name: body} of the resources of one type."""
    return {name: body for (t, name), body in resources().items() if t == rtype}


def variables() -> dict[str, dict]:
    """{name: body} of every input variable."""
    return {name: body for _, doc in load_all() for name, _, body in labelled(doc, "variable")}


def outputs() -> dict[str, dict]:
    """{name: body} of every output."""
    return {name: body for _, doc in load_all() for name, _, body in labelled(doc, "output")}


def local_values() -> dict[str, str]:
    """{name: expression text} of every local value (expr() form)."""
    values = {}
    for _, doc in load_all():
        for entry in doc.get("locals", []):
            for name, value in entry.items():
                if not is_meta(name):
                    values[name] = expr(clean(value[0] if ATTRIBUTES_WRAPPED else value))
    return values


def parsed_locals() -> dict[str, Any]:
    """{name: value} of every local value as parsed: object and list literals as dicts and lists,
    anything else as its expression text."""
    values = {}
    for _, doc in load_all():
        for entry in doc.get("locals", []):
            for name, value in entry.items():
                if not is_meta(name):
                    values[name] = clean(value[0] if ATTRIBUTES_WRAPPED else value)
    return values


def each_value(value: Any, entry: dict[str, Any]) -> Any:
    """An argument of a for_each resource for one instance: ``each.value.x`` replaced by the
    instance's x (its value when ``${each.value.x}`` is the whole argument, its text inside a
    template, a string literal inside a larger expression)."""
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\$\{each\.value\.(\w+)\}", value)
    if whole:
        return entry[whole.group(1)]
    text = re.sub(r"\$\{each\.value\.(\w+)\}", lambda m: str(entry[m.group(1)]), value)
    return re.sub(r"\beach\.value\.(\w+)", lambda m: json.dumps(entry[m.group(1)]), text)


def for_each_instances(body: dict) -> dict[str, dict[str, Any]]:
    """{key: {argument: value}} of a resource whose for_each reads a local map of objects
    (``local.x``, or a for expression over it that filters entries): each argument with
    ``each.value.<field>`` replaced by the entry's field. Every entry of the map is listed; what
    a filter leaves out is for the caller to check."""
    match = re.search(r"\blocal\.(\w+)", str(attr(body, "for_each")))
    assert match, f"for_each reads no local: {attr(body, 'for_each')}"
    entries = parsed_locals()[match.group(1)]
    arguments = {key: attr(body, key) for key in body if not is_meta(key) and key != "for_each"}
    return {
        key: {name: each_value(value, entry) for name, value in arguments.items()}
        for key, entry in entries.items()
    }


def resolve_local(expression: str) -> str:
    """Follow ``${local.x}`` to the expression that defines local x."""
    match = re.fullmatch(r"\$\{local\.(\w+)\}", expr(expression))
    return local_values()[match.group(1)] if match else expr(expression)


def tfvars(path: Path) -> dict[str, Any]:
    """The values an envs/*.tfvars file sets."""
    doc = parse(path)
    return {k: (clean(v[0]) if ATTRIBUTES_WRAPPED else clean(v)) for k, v in doc.items() if not is_meta(k)}


def variable_default(name: str) -> Any:
    """The default of an input variable."""
    return attr(variables()[name], "default")


def models() -> list[str]:
    """The models the scheduled query runs, in order: terraform/generated/daily_models.json (read
    by Terraform for the models_order output), which is the run order derived from sql/."""
    from warehouse.graph import model_names

    assert ORDER_FILE.is_file(), (
        f"{ORDER_FILE.relative_to(ROOT)} is missing: run `python -m warehouse.render`"
    )
    names = json.loads(ORDER_FILE.read_text())
    assert names == model_names(), (
        f"{ORDER_FILE.relative_to(ROOT)} is stale: run `python -m warehouse.render`"
    )
    return names
