"""Offline validation of CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy manifests.

Two layers, both needed because the API server and the Cilium agent each reject
things the other accepts:

* here, the OpenAPI v3 schema of the vendored CRDs (``scaffolder/data/crds``), checked with
  ``jsonschema``'s Draft 7 validator plus a ``cidr`` format checker and a ``pattern``
  keyword that copes with Go RE2 syntax Python's ``re`` cannot compile (and, for bulk
  runs, the same schema compiled by fastjsonschema);
* in :mod:`scaffolder.policy.checks`, on the typed model, the checks the API server and
  Cilium run that the schema does not express (the CEL rule ``spec || specs``, numeric
  ports above 65535, one L3 peer type per rule...).

Both report :class:`~scaffolder.core.diagnostics.Diagnostic` values
(:func:`diagnose_text` with lines and columns); :func:`validate_text` and
:func:`validate_documents` raise :class:`PolicyValidationError` with the first one.

Strings holding Flux post-build substitutions (``${VAR}``) are not checked against
patterns, formats, enums or types: their final value is only known after Flux
substitutes it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import marshal
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache, partial
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from scaffolder.core.diagnostics import Diagnostic, Severity
from scaffolder.core.errors import NetpolError, PolicyValidationError
from scaffolder.core.fs import cache_dir, write_atomic
from scaffolder.policy.checks import check_policy, may_fail
from scaffolder.policy.document import CILIUM_KINDS

if TYPE_CHECKING:  # jsonschema is imported when the reference validator is needed
    from jsonschema import FormatChecker, ValidationError
    from jsonschema.protocols import Validator

SCHEMA_VERSION = "cilium v1.20.0-pre.3 (b0ac676c)"

API_VERSION = "cilium.io/v2"
CRD_FILES = {
    "CiliumNetworkPolicy": "ciliumnetworkpolicies.yaml",
    "CiliumClusterwideNetworkPolicy": "ciliumclusterwidenetworkpolicies.yaml",
}
assert frozenset(CRD_FILES) == CILIUM_KINDS

# Stable diagnostic codes (see scaffolder.policy.checks for the semantic ones).
API_VERSION_MISMATCH = "NP001"
SCHEMA_VIOLATION = "NP002"
_SCHEMA_HINT = f"fix the manifest; it must validate against the {SCHEMA_VERSION} CRD schema"

_SUBSTITUTION = "${"

# --------------------------------------------------------------------------- schema loading


@cache
def _schema(kind: str) -> dict[str, Any]:
    """The ``v2`` openAPIV3Schema of ``kind``'s CRD (parsed once: the files are ~400 KB)."""
    from scaffolder.core.yamlio import parse_documents_fast

    text = (files("scaffolder") / "data" / "crds" / CRD_FILES[kind]).read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    cached = cache_dir() / f"crd-{kind}-{digest}.bin"
    try:
        crd = marshal.loads(cached.read_bytes())
    except (OSError, ValueError, EOFError):
        crd = parse_documents_fast(text, CRD_FILES[kind])[0]  # libyaml: ~10x faster on 400 KB
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(cached, marshal.dumps(crd))
        except (OSError, NetpolError):
            pass
    for version in crd["spec"]["versions"]:
        if version["name"] == "v2":
            schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
            return schema
    raise LookupError(f"{CRD_FILES[kind]} defines no v2 schema")  # pragma: no cover


def _substituted(instance: object) -> bool:
    return isinstance(instance, str) and _SUBSTITUTION in instance


def _no_control_characters(value: str) -> bool:
    """RE2 ``^\\PC*$``: no character of Unicode category C (Cc, Cf, Cs, Co, Cn)."""
    return not any(unicodedata.category(char).startswith("C") for char in value)


# RE2 patterns Python's ``re`` cannot compile, with an equivalent predicate.
_RE2_EQUIVALENTS: dict[str, Callable[[str], bool]] = {r"^\PC*$": _no_control_characters}


@cache
def _matcher(pattern: str) -> Callable[[str], bool] | None:
    """A ``search``-semantics matcher for a schema pattern, or None if it cannot be checked."""
    if pattern in _RE2_EQUIVALENTS:
        return _RE2_EQUIVALENTS[pattern]
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None  # RE2-only syntax we do not know: skip rather than crash
    return lambda value: compiled.search(value) is not None


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not isinstance(instance, str) or _substituted(instance):
        return
    matcher = _matcher(pattern)
    if matcher is not None and not matcher(instance):
        from jsonschema import ValidationError

        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _skipping_substitutions(
    keyword: Callable[..., Iterator[ValidationError] | None],
) -> Callable[..., Iterator[ValidationError]]:
    def check(
        validator: Validator, value: Any, instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[ValidationError]:
        if _substituted(instance):
            return
        yield from keyword(validator, value, instance, schema) or ()

    return check


def _is_cidr(instance: object) -> bool:
    """Go's ``net.ParseCIDR`` (what the API server checks): an address with a prefix length."""
    if not isinstance(instance, str):
        return True
    if "/" not in instance:
        return False
    try:
        ipaddress.ip_network(instance, strict=False)
    except ValueError:
        return False
    return True


def _format_checker() -> FormatChecker:
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("cidr")(_is_cidr)
    return checker


@cache
def _validator(kind: str) -> Validator:
    from jsonschema import Draft7Validator, validators

    cls = validators.extend(  # type: ignore[no-untyped-call]
        Draft7Validator,
        {
            "pattern": _pattern,
            **{
                keyword: _skipping_substitutions(Draft7Validator.VALIDATORS[keyword])
                for keyword in ("format", "type", "enum", "maxLength")
            },
        },
    )
    # No check_schema(): the schema uses RE2 syntax (``\PC``) that the meta-schema's
    # "format: regex" check would reject.
    validator: Validator = cls(_schema(kind), format_checker=_format_checker())
    return validator


# --------------------------------------------------------------------------- bulk mode

_BULK = False


def _to_python_regex(node: Any) -> Any:
    """A copy of ``node`` with the RE2-only patterns rewritten for Python's ``re``."""
    if isinstance(node, dict):
        out = {k: _to_python_regex(v) for k, v in node.items()}
        if out.get("pattern") == r"^\PC*$":
            out["pattern"] = r"^[^\x00-\x1f\x7f-\x9f]*$"
        return out
    if isinstance(node, list):
        return [_to_python_regex(v) for v in node]
    return node


@cache
def _compiled_key(kind: str) -> str:
    import fastjsonschema

    crd = (files("scaffolder") / "data" / "crds" / CRD_FILES[kind]).read_bytes()
    return hashlib.sha256(crd + fastjsonschema.VERSION.encode()).hexdigest()[:16]


def _compiled_path(kind: str) -> Path:
    """Where the compiled validator of ``kind`` is cached (keyed by CRD, generator, Python)."""
    return cache_dir() / f"schema-{kind}-{_compiled_key(kind)}.{sys.implementation.cache_tag}.bin"


@cache
def _fast_validator(kind: str) -> Callable[[Any], Any]:
    """The schema compiled to Python by fastjsonschema, its bytecode cached on disk
    (``$XDG_CACHE_HOME/netpol``): ~1 s the first time, ~0.1 s afterwards."""
    import fastjsonschema

    path = _compiled_path(kind)
    schema = _to_python_regex(_schema(kind))
    try:
        if path.exists():
            code = marshal.loads(path.read_bytes())
        else:
            source = fastjsonschema.compile_to_code(schema, formats={"cidr": _is_cidr})
            code = compile(source, f"<netpol {kind} schema>", "exec")
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, marshal.dumps(code))
        namespace: dict[str, Any] = {}
        exec(code, namespace)
        validate: Callable[[Any], Any] = partial(
            namespace["validate"], custom_formats={"cidr": _is_cidr}
        )
        return validate
    except (OSError, ValueError, EOFError):
        compiled: Callable[[Any], Any] = fastjsonschema.compile(schema, formats={"cidr": _is_cidr})
        return compiled


def precompile() -> None:
    """Build the compiled-validator cache now (``netpol init`` does), so later commands
    validate with it from their first document."""
    try:
        _fast_validator("CiliumNetworkPolicy")
    except Exception:  # an optimisation only: the reference validator remains
        _fast_validator.cache_clear()


def enable_bulk_mode() -> None:
    """For thousands of documents: pay ~1 s once to compile the schema to Python code
    (fastjsonschema, ~40 us a document instead of ~600 us). A document the compiled
    validator accepts is valid under the reference validator too (same schema, same CIDR
    check; the reference only adds leniency for ``${VAR}`` substitutions); anything it
    rejects goes through the reference validator for the exact messages."""
    global _BULK
    _fast_validator("CiliumNetworkPolicy")  # what overlays are; others compile on first use
    _BULK = True


def _schema_valid_fast(kind: str, doc: Mapping[str, Any]) -> bool:
    from fastjsonschema import JsonSchemaException

    try:
        _fast_validator(kind)(dict(doc))
    except JsonSchemaException:
        return False
    return True


# --------------------------------------------------------------------------- messages


def _path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _alternatives(schemas: Sequence[Any]) -> list[str] | None:
    """``[a, b]`` when every subschema is ``{required: [x]}``, as controller-gen writes them."""
    names = []
    for sub in schemas:
        required = sub.get("required") if isinstance(sub, dict) else None
        if not (isinstance(required, list) and len(required) == 1):
            return None
        names.append(str(required[0]))
    return names


def _message(error: ValidationError) -> str:
    value: Any = error.validator_value
    names = _alternatives(value) if error.validator in ("anyOf", "oneOf") else None
    if names is not None and isinstance(error.instance, dict):
        present = [name for name in names if name in error.instance]
        if error.validator == "anyOf":
            return f"must set at least one of {', '.join(names)}"
        if present:
            return f"must set only one of {', '.join(names)} (found {', '.join(present)})"
        return f"must set one of {', '.join(names)}"
    message: str = error.message
    return message if len(message) <= 300 else message[:297] + "..."


# --------------------------------------------------------------------------- public API


def _locate(node: Any, parts: Iterable[str | int]) -> Any:
    """The deepest libyaml node on ``parts`` (a schema error's path) below ``node``."""
    for part in parts:
        child = None
        if node.id == "mapping" and isinstance(part, str):
            child = next((v for k, v in node.value if k.id == "scalar" and k.value == part), None)
        elif node.id == "sequence" and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return node


def schema_diagnostics(
    doc: Mapping[str, Any], path: PurePosixPath | str, node: Any = None
) -> list[Diagnostic]:
    """The CRD-schema problems of one Cilium policy document (``[]`` for other kinds).

    ``node``, the document's libyaml node when the caller has it, gives each diagnostic the
    line and column of the offending field.
    """
    kind = doc.get("kind") if isinstance(doc, Mapping) else None
    if not isinstance(kind, str) or kind not in CILIUM_KINDS:
        return []

    def diagnostic(code: str, parts: Sequence[str | int], message: str) -> Diagnostic:
        line = column = None
        if node is not None:
            mark = _locate(node, parts).start_mark
            line, column = mark.line + 1, mark.column + 1
        where = path if isinstance(path, PurePosixPath) else PurePosixPath(path)
        return Diagnostic(where, line, column, code, Severity.ERROR, message, _SCHEMA_HINT)

    found: list[Diagnostic] = []
    if doc.get("apiVersion") != API_VERSION:
        found.append(
            diagnostic(
                API_VERSION_MISMATCH,
                ["apiVersion"],
                f"apiVersion: {doc.get('apiVersion')!r} is not {API_VERSION!r}",
            )
        )
    if (_BULK or _compiled_path(kind).exists()) and _schema_valid_fast(kind, doc):
        return found
    errors = sorted(
        _validator(kind).iter_errors(dict(doc)),
        key=lambda e: (_path(e.absolute_path), e.message),
    )
    found.extend(
        diagnostic(
            SCHEMA_VIOLATION, list(e.absolute_path), f"{_path(e.absolute_path)}: {_message(e)}"
        )
        for e in errors
    )
    return found


_NOWHERE = PurePosixPath()


def _diagnostics(doc: Mapping[str, Any]) -> list[Diagnostic]:
    from scaffolder.policy.parse import policy_from_data

    found = schema_diagnostics(doc, _NOWHERE)
    data = doc if isinstance(doc, dict) else dict(doc)
    policy = policy_from_data(data, _NOWHERE) if may_fail(data) else None
    if policy is not None:
        found.extend(check_policy(policy))
    return found


def validate_policy(doc: Mapping[str, Any]) -> list[str]:
    """Every problem of one manifest as ``"<field path>: <problem>"``; ``[]`` if it is valid.

    Documents that are not Cilium policies (other kinds, non-mappings) are not checked.
    """
    kind = doc.get("kind") if isinstance(doc, Mapping) else None
    if not isinstance(kind, str) or kind not in CILIUM_KINDS:
        return []
    return [d.message for d in _diagnostics(doc)]


def diagnose_text(text: str, path: PurePosixPath | str) -> list[Diagnostic]:
    """Every schema and semantic problem of the Cilium policies in ``text`` (the file
    ``path``), each with the line and column of the offending node, in document order."""
    import yaml

    from scaffolder.policy.parse import parse_policies

    policies = parse_policies(text, path)  # raises YamlError on invalid YAML
    nodes = [
        n
        for n in yaml.compose_all(text, Loader=yaml.CSafeLoader)
        if n is not None and not (n.id == "scalar" and n.tag.endswith(":null"))
    ]
    found: list[Diagnostic] = []
    for policy in policies:
        if policy.kind in CILIUM_KINDS:
            found.extend(schema_diagnostics(policy.raw, path, nodes[policy.doc_index]))
            found.extend(check_policy(policy))
    return found


def _describe(doc: Mapping[str, Any]) -> str:
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return f"{doc.get('kind')}/{name if name else '(unnamed)'}"


def validate_documents(docs: Iterable[Mapping[str, Any]], source: str) -> None:
    """Raise :class:`PolicyValidationError` naming the first problem if any document is invalid."""
    first: str | None = None
    total = 0
    for doc in docs:
        if not isinstance(doc, Mapping):
            continue
        problems = validate_policy(doc)
        if problems and first is None:
            first = f"{source}: {_describe(doc)}: {problems[0]}"
        total += len(problems)
    if first is not None:
        more = f" (+{total - 1} more)" if total > 1 else ""
        raise PolicyValidationError(first + more, hint=_SCHEMA_HINT)


def validate_text(text: str, source: str) -> None:
    """Parse a (multi-document) YAML text and validate every Cilium policy in it."""
    from scaffolder.core.yamlio import parse_documents_fast

    validate_documents(parse_documents_fast(text, source), source)
