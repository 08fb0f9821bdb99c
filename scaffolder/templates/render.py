"""Rendering the copier templates shipped with netpol.

Two engines produce byte-identical output (a test proves it for every template):

* ``copier`` runs copier itself; ``netpol init`` and ``netpol upgrade`` use it.
* ``fast`` renders the same template files with a Jinja environment configured like
  copier's. ``netpol scaffold`` renders thousands of small overlays with it; running
  copier once per app would take minutes on a large repository.

Either way the result is a :class:`Rendering`: file contents keyed by path relative
to the destination directory. The answers file additionally records a sha256 of each
rendered file, so a later run can tell "unchanged since netpol wrote it" from "edited
by hand" (see :mod:`scaffolder.templates.managed`).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import RenderError
from scaffolder.core.fs import cache_dir

ANSWERS_FILE = ".netpol-answers.yaml"
DIGESTS_KEY = "_netpol_files"
TEMPLATE_SUFFIX = ".jinja"
BASELINE = "network-policy/baseline"
DEFAULT_DENY = "network-policy/default-deny"
OVERLAY = "namespace-overlay"
TEMPLATES = (BASELINE, DEFAULT_DENY, OVERLAY)


def templates_root() -> Path:
    """Where the templates are: inside the installed package, else the source checkout."""
    packaged = Path(__file__).resolve().parents[1] / "_templates"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "copier-templates"
    if checkout.is_dir():
        return checkout
    raise RenderError("netpol's copier templates are missing", hint="reinstall netpol")


def template_dir(name: str) -> Path:
    if name not in TEMPLATES:
        raise RenderError(f"unknown template {name!r}", hint=f"one of: {', '.join(TEMPLATES)}")
    return templates_root() / name


@dataclass(frozen=True)
class Rendering:
    """The files one template render produced, relative to its destination directory."""

    template: str
    files: dict[PurePosixPath, bytes]

    @property
    def digests(self) -> dict[str, str]:
        return {
            str(path): hashlib.sha256(data).hexdigest()
            for path, data in sorted(self.files.items())
            if path.name != ANSWERS_FILE
        }


def _with_digests(template: str, files: dict[PurePosixPath, bytes]) -> Rendering:
    """Append the digest block to the answers file (the last thing written)."""
    rendering = Rendering(template, dict(files))
    answers = PurePosixPath(ANSWERS_FILE)
    if answers not in files:
        raise RenderError(f"template {template!r} rendered no {ANSWERS_FILE}")
    text = files[answers].decode("utf-8")
    if not text.endswith("\n"):
        text += "\n"
    text += "# sha256 of each file as netpol rendered it: 'netpol upgrade' uses them to spot local edits.\n"
    text += f"{DIGESTS_KEY}:\n"
    text += "".join(f"  {path}: {digest}\n" for path, digest in rendering.digests.items())
    rendering.files[answers] = text.encode("utf-8")
    return rendering


# --------------------------------------------------------------------------- copier engine


def render_with_copier(template: str, answers: Mapping[str, Any]) -> Rendering:
    """Render ``template`` with copier into a scratch directory and collect the files."""
    import copier
    from copier.errors import CopierError

    src = template_dir(template)
    with tempfile.TemporaryDirectory(prefix="netpol-render-") as tmp:
        dst = Path(tmp) / "out"
        try:
            copier.run_copy(
                str(src),
                str(dst),
                data=dict(answers),
                defaults=True,
                overwrite=True,
                quiet=True,
                unsafe=False,
                skip_tasks=True,
            )
        except (CopierError, ValueError) as exc:
            raise RenderError(f"{template}: {_one_line(exc)}", hint="check the answers") from exc
        files = {
            PurePosixPath(p.relative_to(dst).as_posix()): p.read_bytes()
            for p in sorted(dst.rglob("*"))
            if p.is_file()
        }
        shutil.rmtree(dst, ignore_errors=True)
    return _with_digests(template, files)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# --------------------------------------------------------------------------- fast engine


@dataclass(frozen=True)
class _Question:
    name: str
    type: str
    default: Any
    validator: str | None
    choices: tuple[Any, ...] | None


@dataclass(frozen=True)
class _Template:
    name: str
    root: Path
    questions: tuple[_Question, ...]
    answers_file: str
    files: tuple[PurePosixPath, ...]  # relative source paths (templated names), _exclude applied


@cache
def _load_template(name: str) -> _Template:
    from scaffolder.core.yamlio import load_mapping

    root = template_dir(name)
    conf = load_mapping(root / "copier.yml", what="a copier.yml mapping")
    questions = []
    for key, spec in conf.items():
        if key.startswith("_"):
            continue
        spec = spec if isinstance(spec, dict) else {"default": spec}
        choices = spec.get("choices")
        if isinstance(choices, dict):
            choices = tuple(choices.values())
        questions.append(
            _Question(
                name=key,
                type=str(spec.get("type", "str")),
                default=spec.get("default"),
                validator=spec.get("validator"),
                choices=tuple(choices) if choices else None,
            )
        )
    exclude = tuple(conf.get("_exclude", ()))
    files = tuple(
        rel
        for rel in (PurePosixPath(p.relative_to(root).as_posix()) for p in sorted(root.rglob("*")))
        if (root / rel).is_file()
        and rel.name != "copier.yml"
        and not rel.name.startswith("copier.")
        and not any(fnmatch(str(rel), pat) or fnmatch(rel.name, pat) for pat in exclude)
    )
    return _Template(
        name=name,
        root=root,
        questions=tuple(questions),
        answers_file=str(conf.get("_answers_file", ".copier-answers.yml")),
        files=files,
    )


def question_defaults(template: str) -> dict[str, Any]:
    """Each question's default answer; ``None`` where the default is computed from others."""
    tpl = _load_template(template)
    return {
        q.name: None
        if isinstance(q.default, str) and "{{" in q.default
        else copy.deepcopy(_cast(q, q.default))
        for q in tpl.questions
    }


_INLINE_PREFIX = "netpol-inline:"
_INLINE: dict[str, str] = {}


def _inline_source(name: str) -> str | None:
    return (
        _INLINE.get(name.removeprefix(_INLINE_PREFIX)) if name.startswith(_INLINE_PREFIX) else None
    )


@cache
def _environment(root: Path) -> Any:
    """Copier's Jinja settings. Not sandboxed: these are netpol's own templates, and the
    sandbox's per-call checks cost half the rendering time. Compiled templates (files and
    the inline validator/default strings alike) are kept in a bytecode cache, so a fresh
    ``netpol`` process does not compile them again."""
    from jinja2 import (
        ChoiceLoader,
        Environment,
        FileSystemBytecodeCache,
        FileSystemLoader,
        FunctionLoader,
    )

    bytecode_cache = None
    directory = cache_dir() / "jinja"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        bytecode_cache = FileSystemBytecodeCache(str(directory))
    except OSError:
        pass
    return Environment(
        loader=ChoiceLoader([FunctionLoader(_inline_source), FileSystemLoader(str(root))]),
        bytecode_cache=bytecode_cache,
        auto_reload=False,
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        keep_trailing_newline=True,
    )


@cache
def _compiled(root: Path, source: str) -> Any:
    """A compiled Jinja template for a string (validators, defaults, file names): compiling
    is ~100x the cost of rendering, and the same few strings render thousands of times."""
    key = hashlib.sha256(source.encode()).hexdigest()
    _INLINE[key] = source
    return _environment(root).get_template(_INLINE_PREFIX + key)


@cache
def _referenced(root: Path, source: str) -> tuple[str, ...]:
    """The names a validator reads (from its AST), which are all its result depends on.

    Every loaded name counts, globals included: an answer may shadow one (``namespace``).
    """
    from jinja2 import nodes

    tree = _environment(root).parse(source)
    return tuple(sorted({n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}))


_VALIDATIONS: dict[tuple[Path, str, str], str] = {}


def _validate_answer(root: Path, validator: str, answers: Mapping[str, Any]) -> str:
    """Run a copier validator, memoised on the values it reads: thousands of overlays share
    most answers (gateway selector, namespaces, ports), and validators are pure."""
    import json

    names = _referenced(root, validator)
    try:
        key = (root, validator, json.dumps([answers.get(n) for n in names], sort_keys=True))
    except TypeError:  # not JSON-serialisable: do not memoise
        return str(_compiled(root, validator).render(**answers)).strip()
    if key not in _VALIDATIONS:
        _VALIDATIONS[key] = str(_compiled(root, validator).render(**answers)).strip()
    return _VALIDATIONS[key]


@cache
def _parse_default(text: str, name: str) -> Any:
    from scaffolder.core.yamlio import parse_documents

    docs = parse_documents(text, f"default of {name}")
    return docs[0] if docs else None


def _cast(question: _Question, value: Any) -> Any:
    if question.type == "int" and isinstance(value, str):
        return int(value)
    if question.type == "bool" and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "on"}
    if question.type in {"yaml", "json"} and isinstance(value, str):
        return copy.deepcopy(_parse_default(value, question.name))
    return value


def _resolve_answers(tpl: _Template, given: Mapping[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in tpl.questions:
        if q.name in given:
            value = given[q.name]
        else:
            value = q.default
            if isinstance(value, str) and "{{" in value:
                value = _compiled(tpl.root, value).render(**answers)
            value = _cast(q, value)
        answers[q.name] = value
    for q in tpl.questions:
        if q.choices is not None and answers[q.name] not in q.choices:
            raise RenderError(
                f"{tpl.name}: {q.name}: {answers[q.name]!r} is not one of {list(q.choices)}"
            )
        if q.validator:
            message = _validate_answer(tpl.root, q.validator, answers)
            if message:
                raise RenderError(f"{tpl.name}: {q.name}: {message}", hint="check the answers")
    unknown = sorted(set(given) - {q.name for q in tpl.questions})
    if unknown:
        raise RenderError(f"{tpl.name}: unknown answer(s): {', '.join(unknown)}")
    return answers


def render_fast(template: str, answers: Mapping[str, Any]) -> Rendering:
    """Render like copier would, without copier's per-run overhead."""
    tpl = _load_template(template)
    env = _environment(tpl.root)
    resolved = _resolve_answers(tpl, answers)
    remembered = {"_src_path": str(tpl.root), **resolved}
    context = {
        **resolved,
        "_copier_answers": remembered,
        "_copier_conf": {"answers_file": tpl.answers_file},
    }
    files: dict[PurePosixPath, bytes] = {}
    for src in tpl.files:
        dest = _compiled(tpl.root, str(src)).render(**context)
        if dest.endswith(TEMPLATE_SUFFIX):
            dest = dest[: -len(TEMPLATE_SUFFIX)]
            content = env.get_template(str(src)).render(**context).encode("utf-8")
        else:
            content = (tpl.root / src).read_bytes()
        if not dest or dest.endswith("/") or "//" in dest:
            continue  # copier skips files whose templated name renders empty
        files[PurePosixPath(dest)] = content
    return _with_digests(template, files)


def render(template: str, answers: Mapping[str, Any], *, engine: str = "fast") -> Rendering:
    """Render ``template`` with ``answers`` using the chosen engine (``fast`` or ``copier``)."""
    if engine == "copier":
        return render_with_copier(template, answers)
    return render_fast(template, answers)


# --------------------------------------------------------------------------- render memo
#
# Rendering is a pure function of the template files, the engine's code and the answers.
# ``scaffold`` renders every overlay of the repository on every run, though on a rerun each
# is already on disk exactly as rendered. The memo (an append-only log in netpol's cache)
# records, per template fingerprint and answers, the digest of every file a render
# produced; :func:`render_reusing` then takes a file from disk when its bytes have that
# digest, so the result is byte for byte the rendering, without running Jinja.

_MEMO_MAX_BYTES = 64 * 1024 * 1024
_MEMO: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {}
_MEMO_ON = False


def enable_render_memo() -> None:
    """For runs rendering thousands of overlays; a few renders cost less than the memo."""
    global _MEMO_ON
    _MEMO_ON = True


@cache
def _fingerprint(template: str) -> str:
    """Everything a fast render of ``template`` depends on, besides its answers."""
    import importlib
    import sys

    import jinja2

    filters = importlib.import_module("jinja2_ansible_filters.core_filters")
    digest = hashlib.sha256(f"{sys.version}|{jinja2.__version__}".encode())
    digest.update(Path(filters.__file__ or "").read_bytes())  # the filters' code
    digest.update(Path(__file__).read_bytes())  # this engine's code
    root = template_dir(template)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(f"\0{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def _memo_prefix(template: str) -> str:
    return f"render-memo-{template.replace('/', '_')}-"


def _memo_path(template: str) -> Path:
    return cache_dir() / f"{_memo_prefix(template)}{_fingerprint(template)}.log"


def _memo(template: str) -> dict[str, tuple[tuple[str, str], ...]]:
    memo = _MEMO.get(template)
    if memo is not None:
        return memo
    memo = _MEMO[template] = {}
    path = _memo_path(template)
    try:
        if path.stat().st_size > _MEMO_MAX_BYTES:
            path.unlink()  # start over rather than grow without bound
            return memo
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return memo
    for line in text.split("\n"):
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts) % 2 == 1 and len(parts[0]) == 32:
            memo[parts[0]] = tuple(zip(parts[1::2], parts[2::2], strict=True))
    return memo


def _plain(value: Any) -> bool:
    """Data whose ``repr`` identifies it exactly (types, order and all)."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return True
    if kind in (list, tuple):
        return all(_plain(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return False


def _memo_key(answers: Mapping[str, Any]) -> str | None:
    data = dict(answers)
    return hashlib.sha256(repr(data).encode()).hexdigest()[:32] if _plain(data) else None


def _remember(template: str, key: str, rendering: Rendering) -> None:
    entry = tuple(
        (str(path), hashlib.sha256(data).hexdigest())
        for path, data in sorted(rendering.files.items())
    )
    if any("\t" in name or "\n" in name for name, _ in entry):
        return
    _memo(template)[key] = entry
    line = "\t".join([key, *(field for pair in entry for field in pair)]) + "\n"
    try:
        path = _memo_path(template)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # a new fingerprint: drop the logs of older ones
            from scaffolder.core.yamlio import _remove_other_logs

            _remove_other_logs(str(path), _memo_prefix(template))
        # One short O_APPEND write per entry: concurrent netpol processes cannot interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError:
        pass  # an optimisation only


def render_reusing(template: str, answers: Mapping[str, Any], directory: Path) -> Rendering:
    """``render(template, answers)`` (fast engine), reusing the files already in ``directory``
    when the memo shows a render with these answers produced exactly those bytes."""
    key = _memo_key(answers) if _MEMO_ON else None
    if key is None:
        return render_fast(template, answers)
    expected = _memo(template).get(key)
    if expected is not None:
        files: dict[PurePosixPath, bytes] = {}
        for name, digest in expected:
            try:
                data = (directory / name).read_bytes()
            except OSError:
                break
            if hashlib.sha256(data).hexdigest() != digest:
                break
            files[PurePosixPath(name)] = data
        else:
            return Rendering(template, files)
    rendering = render_fast(template, answers)
    if expected is None:
        _remember(template, key, rendering)
    return rendering


@dataclass(frozen=True)
class Recorded:
    """What a rendered answers file records: template, answers, file digests."""

    template: str | None
    answers: dict[str, Any]
    digests: dict[str, str]


def read_recorded(answers_text: str, source: str) -> Recorded:
    """Parse a rendered answers file."""
    data = _parse_answers_fast(answers_text)
    if data is None:
        from scaffolder.core.yamlio import parse_documents

        docs = parse_documents(answers_text, source)
        data = docs[0] if docs and isinstance(docs[0], dict) else {}
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
