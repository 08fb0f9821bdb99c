"""Reading a rendered answers file (``.netpol-answers.yaml``): template, answers, digests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from scaffolder.core.errors import RenderError
from scaffolder.core.versioning import newer_than_running, too_new
from scaffolder.templates.rendering import DIGESTS_KEY, VERSION_KEY


@dataclass(frozen=True)
class Recorded:
    """What a rendered answers file records: template, answers, file digests."""

    template: str | None
    answers: dict[str, Any]
    digests: dict[str, str]


def read_recorded(answers_text: str, source: str) -> Recorded:
    """Parse a rendered answers file; refuse one a newer netpol rendered (an older one
    is read as it is: its answers mean the same, and the next render records this
    netpol's version)."""
    data = _parse_answers_fast(answers_text)
    if data is None:
        from scaffolder.core.yamlio import parse_documents

        docs = parse_documents(answers_text, source)
        data = docs[0] if docs and isinstance(docs[0], dict) else {}
    written_by = data.get(VERSION_KEY)
    if newer_than_running(written_by):
        raise RenderError(too_new(source, written_by))
    digests = data.get(DIGESTS_KEY) or {}
    src = str(data.get("_src_path", ""))
    template = src.removeprefix("netpol:") if src.startswith("netpol:") else None
    answers = {k: v for k, v in data.items() if not str(k).startswith("_")}
    return Recorded(template, answers, {str(k): str(v) for k, v in digests.items()})


# --------------------------------------------------------------------------- answers files
#
# A rerun of ``scaffold --all`` reads thousands of answers files. They are in the small
# YAML subset netpol itself writes (see ``answers_file`` in the templates' _macros.jinja):
# ``key: scalar`` and ``key: <JSON>`` lines, and one level of ``  key: scalar`` entries
# under the digests key. :func:`_parse_answers_fast` reads exactly that subset, with
# PyYAML's own implicit resolver deciding what a plain scalar is, and gives up (None) on
# anything else, which the reference YAML loader then parses (and explains, if broken).

_FAST_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
_FAST_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./:+-]*")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\n\x20-\x7e]")
_STR_TAG = "tag:yaml.org,2002:str"


class _NotFast(Exception):
    """The text is outside the subset :func:`_parse_answers_fast` reads."""


@cache
def _yaml_scalars() -> tuple[Any, Any, Any]:
    """PyYAML's implicit resolver and safe constructor, and its ScalarNode class."""
    import yaml

    return yaml.resolver.Resolver(), yaml.constructor.SafeConstructor(), yaml.ScalarNode


_PLAIN: dict[str, Any] = {}  # plain scalar -> its value (immutable: str, int, bool, None)


def _plain_scalar(text: str) -> Any:
    try:
        return _PLAIN[text]
    except KeyError:
        pass
    if not _FAST_PLAIN.fullmatch(text) or text.endswith(":"):
        raise _NotFast
    resolver, constructor, node_class = _yaml_scalars()
    tag = resolver.resolve(node_class, text, (True, False))
    if tag == _STR_TAG:
        value: Any = text
    elif tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"):
        value = constructor.yaml_constructors[tag](constructor, node_class(tag, text))
    else:
        raise _NotFast  # floats, timestamps, merge keys: the reference loader decides
    if len(_PLAIN) < 10_000:
        _PLAIN[text] = value
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _NotFast
    return out


def _no_float(text: str) -> Any:
    raise _NotFast  # YAML 1.1 reads some JSON numbers (1e5) as strings


@cache
def _json_decoder() -> Any:
    import json

    return json.JSONDecoder(
        object_pairs_hook=_no_duplicates, parse_float=_no_float, parse_constant=_no_float
    )


def _scalar(text: str) -> Any:
    first = text[:1]
    if first in ("{", "[", '"'):
        if text == "[]":
            return []
        if text == "{}":
            return {}
        if "\\" in text:
            raise _NotFast  # JSON and YAML escapes differ in corner cases
        try:
            return _json_decoder().decode(text)
        except ValueError as exc:
            raise _NotFast from exc
    return _plain_scalar(text)


def _key(text: str) -> str:
    if not _FAST_KEY.fullmatch(text) or _plain_scalar(text) != text:
        raise _NotFast
    return text


def _parse_answers_fast(text: str) -> dict[str, Any] | None:
    """The mapping of an answers file in the subset netpol writes; None for anything else."""
    if _NOT_PRINTABLE_ASCII.search(text):
        return None  # tabs, CR, control or non-ASCII characters
    lines = text.split("\n")
    if lines and lines[0] == "---":
        lines = lines[1:]
    data: dict[str, Any] = {}
    blocks: list[str] = []  # keys whose value is on the indented lines below them
    nested: dict[str, Any] | None = None
    try:
        for line in lines:
            if not line or line[0] == "#":
                continue
            if line.startswith("  ") and nested is not None and line[2] != " ":
                key, sep, value = line[2:].partition(": ")
                key = _key(key)
                if not sep or key in nested:
                    raise _NotFast
                nested[key] = _scalar(value)
                continue
            nested = None
            if line.endswith(":") and ": " not in line:
                key = _key(line[:-1])
                if key in data:
                    raise _NotFast
                nested = data[key] = {}
                blocks.append(key)
                continue
            key, sep, value = line.partition(": ")
            key = _key(key)
            if not sep or key in data:
                raise _NotFast
            data[key] = _scalar(value)
    except _NotFast:
        return None
    for key in blocks:
        if not data[key]:
            data[key] = None  # ``key:`` with nothing under it is null
    return data or None
