"""Check terraform/ against the google provider's published schema, offline.

``terraform validate`` needs the provider plugin, which cannot be downloaded here. The
provider's schema is published in another form that installs from PyPI: the prebuilt CDK
Terrain bindings (``cdktn-provider-google``, ``cdktn-provider-google-beta``) ship a jsii
assembly (``_jsii/*.jsii.tgz``, JSON) generated from ``terraform providers schema -json``.
Every resource and data source is a class whose config struct lists its arguments (with
``optional`` unless the provider marks them required) and its nested blocks (typed as
further structs, documented as "<name> block."; a block that may appear at most once is a
single struct, a repeatable one a list of them). Each property's docs link to the
registry anchor that carries its Terraform name (``#ack_deadline_seconds``).

This module turns an assembly into a compact schema and checks HCL against it:

* the resource or data source type exists in the provider the block uses (``provider =
  google-beta`` selects the beta schema);
* every argument and nested block exists at its level, an argument is not written as a
  block or a block as an argument, a block that may appear once appears once;
* every required argument and required block is present.

Meta-arguments (count, for_each, provider, depends_on, lifecycle, ...) and ``dynamic``
blocks (checked as the block they generate, through their ``content``) are understood.
Values are not type-checked: they are mostly expressions, which only Terraform evaluates.

The HCL is read with the Lark grammar of the installed ``hcl2`` module, not its dict
output, because the dict form cannot tell ``x = {}`` from ``x {}``.

Command line: ``python -m tests.terraform_schema [DIR]`` prints the findings (exit 1 if any).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
import tarfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# provider local name (as in required_providers) -> PyPI distribution with its jsii assembly.
SCHEMA_PACKAGES = {
    "google": "cdktn-provider-google",
    "google-beta": "cdktn-provider-google-beta",
}

# Terraform's own arguments and blocks, valid in every resource / data block.
RESOURCE_META_ARGUMENTS = {"count", "for_each", "provider", "depends_on"}
RESOURCE_META_BLOCKS = {"lifecycle", "provisioner", "connection"}
DATA_META_ARGUMENTS = {"count", "for_each", "provider", "depends_on"}
DATA_META_BLOCKS = {"lifecycle"}
DYNAMIC_ARGUMENTS = {"for_each", "iterator", "labels"}

_REGISTRY_LINK = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/(?P<provider>[\w-]+)/(?P<version>[\w.-]+)/docs/"
    r"(?P<kind>resources|data-sources|ephemeral-resources)/\w+ (?P<name>google_\w+)\}"
)
_ANCHOR = re.compile(r"Docs at Terraform Registry: \{@link \S+#(?P<name>\w+) ")
_BLOCK_SUMMARY = re.compile(r"\S+ block\.")


# --------------------------------------------------------------------------------------
# Schema: from the jsii assembly to {type: block schema}
# --------------------------------------------------------------------------------------


@dataclass
class ProviderSchema:
    """One provider's resource and data source schemas (compact: names, required, nesting)."""

    provider: str
    provider_version: str
    package: str
    package_version: str
    resources: dict[str, dict] = field(default_factory=dict)
    data_sources: dict[str, dict] = field(default_factory=dict)
    provider_config: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return self.__dict__.copy()

    @classmethod
    def from_json(cls, data: dict) -> ProviderSchema:
        return cls(**data)


def assembly_path(package: str) -> Path:
    """The installed jsii assembly (.jsii.tgz) of a cdktn provider package; not imported."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError as missing:
        raise LookupError(
            f"{package} is not installed: it is a dev dependency (pip install -e '.[dev]')"
        ) from missing
    found = [f for f in dist.files or [] if str(f).endswith(".jsii.tgz")]
    if len(found) != 1:
        raise LookupError(f"{package}: expected one _jsii/*.jsii.tgz, found {found}")
    return Path(dist.locate_file(found[0]))


def _read_assembly(path: Path) -> dict:
    with tarfile.open(path, "r:gz") as tar:
        member = tar.extractfile("package/.jsii")
        if member is None:
            raise LookupError(f"{path}: no package/.jsii inside")
        return json.load(member)


def _refs(type_ref: dict) -> list[tuple[str, bool]]:
    """(struct fqn, repeatable) of the structs a property's type refers to."""
    if "fqn" in type_ref:
        return [(type_ref["fqn"], False)]
    if "union" in type_ref:
        return [r for t in type_ref["union"]["types"] for r in _refs(t)]
    if "collection" in type_ref:
        return [(fqn, True) for fqn, _ in _refs(type_ref["collection"]["elementtype"])]
    return []


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _block_schema(types: dict, fqn: str, assembly: str, seen: tuple[str, ...] = ()) -> dict:
    attributes: dict[str, dict] = {}
    blocks: dict[str, dict] = {}
    for prop in types[fqn].get("properties", []):
        docs = prop.get("docs", {})
        anchor = _ANCHOR.search(docs.get("remarks", ""))
        name = anchor.group("name") if anchor else _snake(prop["name"])
        required = not prop.get("optional", False)
        structs = [(f, many) for f, many in _refs(prop["type"]) if f.startswith(assembly + ".")]
        if structs and _BLOCK_SUMMARY.fullmatch(docs.get("summary", "")):
            (struct, many), *_ = structs
            nested = {} if struct in seen else _block_schema(types, struct, assembly, (*seen, fqn))
            blocks[name] = {"required": required, "max_one": not many, "block": nested}
        else:
            attributes[name] = {"required": required}
    return {"attributes": attributes, "blocks": blocks}


def build_schema(provider: str, assembly: dict, package: str, package_version: str) -> ProviderSchema:
    types = assembly["types"]
    name = assembly["name"]
    schema = ProviderSchema(provider, "", package, package_version)
    bases = {"cdktn.TerraformResource": schema.resources, "cdktn.TerraformDataSource": schema.data_sources}
    for entry in types.values():
        if entry.get("kind") == "class" and entry.get("base") == "cdktn.TerraformProvider":
            config = entry["initializer"]["parameters"][-1]["type"]["fqn"]
            schema.provider_config = _block_schema(types, config, name)
        target = bases.get(entry.get("base", ""))
        if entry.get("kind") != "class" or target is None:
            continue
        link = _REGISTRY_LINK.search(entry.get("docs", {}).get("summary", ""))
        if not link:
            continue
        schema.provider_version = schema.provider_version or link.group("version")
        config = entry["initializer"]["parameters"][-1]["type"]["fqn"]
        target[link.group("name")] = _block_schema(types, config, name)
    if not schema.resources:
        raise LookupError(f"{package}: no resources found in its jsii assembly")
    return schema


def load_schema(provider: str = "google", cache_dir: Path | None = None) -> ProviderSchema:
    """The schema of ``provider`` (google or google-beta) from its installed cdktn package.

    Building it reads a ~130 MB JSON assembly (a few seconds); with ``cache_dir`` the compact
    result is kept there, keyed by the assembly's checksum.
    """
    package = SCHEMA_PACKAGES[provider]
    path = assembly_path(package)
    version = metadata.version(package)
    cached = None
    if cache_dir is not None:
        digest = hashlib.sha256(
            f"{path.stat().st_size}:{path.stat().st_mtime_ns}:{path}".encode()
        ).hexdigest()
        cached = Path(cache_dir) / f"{package}-{version}-{digest[:16]}.json.gz"
        if cached.exists():
            with gzip.open(cached, "rt") as f:
                return ProviderSchema.from_json(json.load(f))
    schema = build_schema(provider, _read_assembly(path), package, version)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".tmp")
        with gzip.open(partial, "wt") as f:
            json.dump(schema.to_json(), f)
        partial.replace(cached)
    return schema


# --------------------------------------------------------------------------------------
# HCL: the exact block/attribute structure, from the hcl2 module's Lark grammar
# --------------------------------------------------------------------------------------


@dataclass
class Body:
    """A block body: attribute names (with line numbers) and nested blocks, in order."""

    attributes: dict[str, int] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Block:
    type: str
    labels: list[str]
    body: Body
    line: int

    def attribute_text(self, name: str, source: str) -> str | None:
        """The source text of attribute ``name`` of this block (for ``provider = ...``)."""
        if name not in self.body.attributes:
            return None
        line = source.splitlines()[self.body.attributes[name] - 1]
        return line.split("=", 1)[1].strip()


def _lark_parser():
    from hcl2 import parser as hcl2_parser

    if not hasattr(hcl2_parser, "Hcl2"):
        raise LookupError("the hcl2 module is not bc-python-hcl2 (installed with checkov, a dev dependency)")
    return hcl2_parser.Hcl2.lark_parser


def _token_text(node: Any) -> str:
    from lark import Tree

    if isinstance(node, Tree):  # identifier
        return str(node.children[0])
    text = str(node)
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


def _body(tree: Any) -> Body:
    from lark import Tree

    body = Body()
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            body.attributes[_token_text(child.children[0])] = child.meta.line
        elif child.data == "block":
            parts = [c for c in child.children if not (isinstance(c, Tree) and c.data == "body")]
            (inner,) = [c for c in child.children if isinstance(c, Tree) and c.data == "body"]
            names = [_token_text(p) for p in parts if isinstance(p, Tree) or str(p).startswith('"')]
            body.blocks.append(Block(names[0], names[1:], _body(inner), child.meta.line))
    return body


def parse_hcl(text: str) -> Body:
    from lark import Tree

    tree = _lark_parser().parse(text if text.endswith("\n") else text + "\n")
    (body,) = [c for c in tree.children if isinstance(c, Tree) and c.data == "body"]
    return _body(body)


# --------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------


def _check_body(
    body: Body, schema: dict, filename: str, path: str, line: int, meta: tuple[set[str], set[str]]
) -> list[str]:
    """Findings for one block body against its schema; ``path`` names it (resource x.y > block)."""
    meta_args, meta_blocks = meta
    problems = []
    attributes, blocks = schema["attributes"], schema["blocks"]

    def problem(at: int, message: str) -> None:
        problems.append(f"{filename}:{at}: {path}: {message}")

    for name, at in body.attributes.items():
        if name in attributes or name in meta_args:
            continue
        if name in blocks:
            problem(at, f"{name} is a block, not an argument: write `{name} {{ ... }}`")
        else:
            problem(at, f"unsupported argument {name!r}{_suggest(name, attributes, blocks)}")
    seen: dict[str, int] = {}
    for block in body.blocks:
        name, content = block.type, block.body
        if name == "dynamic" and block.labels:
            name = block.labels[0]
            for arg, at in content.attributes.items():
                if arg not in DYNAMIC_ARGUMENTS:
                    problem(at, f"unsupported argument {arg!r} in dynamic {name!r}")
            contents = [b for b in content.blocks if b.type == "content"]
            if len(contents) != 1:
                problem(block.line, f"dynamic {name!r} needs exactly one content block")
                continue
            content = contents[0].body
        seen[name] = seen.get(name, 0) + 1  # a dynamic block counts once: Terraform checks its expansion
        if name in meta_blocks:
            continue
        if name not in blocks:
            if name in attributes:
                problem(block.line, f"{name} is an argument, not a block: write `{name} = ...`")
            else:
                problem(block.line, f"unsupported block {name!r}{_suggest(name, attributes, blocks)}")
            continue
        nested = blocks[name]["block"]
        problems += _check_body(content, nested, filename, f"{path} > {name}", block.line, (set(), set()))
    for name, spec in blocks.items():
        if spec["max_one"] and seen.get(name, 0) > 1:
            problem(line, f"block {name!r} may appear at most once")
        if spec["required"] and name not in seen:
            problem(line, f"required block {name!r} is missing")
    for name, spec in attributes.items():
        if spec["required"] and name not in body.attributes:
            problem(line, f"required argument {name!r} is missing")
    return problems


def _suggest(name: str, attributes: dict, blocks: dict) -> str:
    import difflib

    close = difflib.get_close_matches(name, [*attributes, *blocks], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _provider_of(block: Block, source: str) -> str:
    text = block.attribute_text("provider", source)
    if text is None:
        return "google"
    return text.split(".", 1)[0].strip()


def check_source(source: str, schemas: dict[str, ProviderSchema], filename: str = "<hcl>") -> list[str]:
    """Findings for one HCL file's google_* resources and data sources."""
    problems = []
    for block in parse_hcl(source).blocks:
        if block.type == "provider" and block.labels and block.labels[0] in schemas:
            path = f"provider {block.labels[0]}"
            config = schemas[block.labels[0]].provider_config
            problems += _check_body(block.body, config, filename, path, block.line, ({"alias"}, set()))
            continue
        if block.type not in ("resource", "data") or len(block.labels) != 2:
            continue
        rtype, name = block.labels
        if not rtype.startswith("google_"):
            continue
        path = f"{block.type} {rtype}.{name}"
        provider = _provider_of(block, source)
        if provider not in schemas:
            problems.append(
                f"{filename}:{block.line}: {path}: provider {provider!r} has no schema to check against"
            )
            continue
        schema = schemas[provider]
        kind, table = (
            ("resource type", "resources") if block.type == "resource" else ("data source", "data_sources")
        )
        if rtype not in getattr(schema, table):
            other = [p for p, s in schemas.items() if rtype in getattr(s, table)]
            hint = f" (it is in {other[0]}: set provider = {other[0]})" if other else ""
            problems.append(
                f"{filename}:{block.line}: {path}: {kind} {rtype!r} does not exist in "
                f"{provider} {schema.provider_version}{hint}"
            )
            continue
        meta = (
            (RESOURCE_META_ARGUMENTS, RESOURCE_META_BLOCKS)
            if block.type == "resource"
            else (DATA_META_ARGUMENTS, DATA_META_BLOCKS)
        )
        problems += _check_body(block.body, getattr(schema, table)[rtype], filename, path, block.line, meta)
    return problems


def checked_blocks(directory: Path) -> list[str]:
    """``resource TYPE.NAME`` / ``data TYPE.NAME`` of every google_* block the check covers."""
    found = []
    for path in sorted(Path(directory).glob("*.tf")):
        for block in parse_hcl(path.read_text()).blocks:
            if (
                block.type in ("resource", "data")
                and len(block.labels) == 2
                and block.labels[0].startswith("google_")
            ):
                found.append(f"{block.type} {block.labels[0]}.{block.labels[1]}")
    return found


def check_directory(directory: Path, schemas: dict[str, ProviderSchema]) -> list[str]:
    problems = []
    for path in sorted(Path(directory).glob("*.tf")):
        name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        problems += check_source(path.read_text(), schemas, name)
    return problems


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else ROOT / "terraform"
    cache = ROOT / ".pytest_cache" / "terraform-schema"
    schemas = {p: load_schema(p, cache) for p in SCHEMA_PACKAGES}
    for schema in schemas.values():
        print(f"{schema.provider} {schema.provider_version} (from {schema.package} {schema.package_version})")
    problems = check_directory(directory, schemas)
    print("\n".join(problems) if problems else f"{directory}: every google_* block matches the schema")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
