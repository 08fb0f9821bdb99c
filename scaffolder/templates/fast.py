"""The ``fast`` engine: the copier templates rendered by a Jinja environment configured like
copier's, byte-identical to copier's output (a test proves it for every template).
``netpol scaffold`` renders thousands of small overlays with it; running copier once per
app would take minutes on a large repository.

Beyond skipping copier's per-run work, it renders the hot output macros of
``_macros.jinja`` natively (:mod:`scaffolder.templates.native`), and memoises validators
and file names on the values they read."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache, partial
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import RenderError
from scaffolder.core.fs import cache_dir
from scaffolder.templates import native
from scaffolder.templates.rendering import TEMPLATE_SUFFIX, Rendering, _with_digests, template_dir

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


def _native_macros_source(root: Path, name: str) -> tuple[str, str, None] | None:
    """The shared macros file with its hot macros rebound to :mod:`.native`'s versions."""
    if name != native.MACROS_FILE:
        return None
    path = root / name
    return native.macros_source(path.read_text(encoding="utf-8")), str(path), None


@cache
def _environment(root: Path, native_macros: bool) -> Any:
    """Copier's Jinja settings. Not sandboxed: these are netpol's own templates, and the
    sandbox's per-call checks cost half the rendering time. Compiled templates (files and
    the inline validator/default strings alike) are kept in a bytecode cache, so a fresh
    ``netpol`` process does not compile them again.

    With ``native_macros`` (the default), the hot output macros of ``_macros.jinja`` are
    Python functions rendering the same text (:mod:`scaffolder.templates.native`); without,
    every macro runs in Jinja as under copier (the reference the tests compare with)."""
    from jinja2 import (
        BaseLoader,
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

    class _Environment(Environment):
        def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
            """A template's globals as one dict, not Jinja's ChainMap over the environment's:
            every render and macro import copies or compares them, much faster from a
            dict. (The environment's globals never change once templates are loaded.)"""
            return {**self.globals, **(d or {})}

    loaders: list[BaseLoader] = [FunctionLoader(_inline_source)]
    if native_macros:
        loaders.append(FunctionLoader(partial(_native_macros_source, root)))
    loaders.append(FileSystemLoader(str(root)))
    env = _Environment(
        loader=ChoiceLoader(loaders),
        bytecode_cache=bytecode_cache,
        auto_reload=False,
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        keep_trailing_newline=True,
    )
    if native_macros:
        native.install(env)
    return env


@cache
def _compiled(root: Path, source: str) -> Any:
    """A compiled Jinja template for a string (validators, defaults, file names): compiling
    is ~100x the cost of rendering, and the same few strings render thousands of times."""
    key = hashlib.sha256(source.encode()).hexdigest()
    _INLINE[key] = source
    return _environment(root, True).get_template(_INLINE_PREFIX + key)


@cache
def _referenced(root: Path, source: str) -> tuple[str, ...]:
    """The names a string template (a validator, a file name) reads, from its AST: all its
    result depends on.

    Every loaded name counts, globals included: an answer may shadow one (``namespace``).
    """
    from jinja2 import nodes

    tree = _environment(root, True).parse(source)
    return tuple(sorted({n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}))


_SCALAR_TYPES = frozenset([str, int, float, bool, type(None)])


def plain_data(value: Any) -> bool:
    """Data whose ``repr`` identifies it exactly (types, order and all)."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return True
    if kind in (list, tuple):
        return all(plain_data(v) for v in value)
    if kind is dict:
        return all(type(k) is str and plain_data(v) for k, v in value.items())
    return False


class _ValueKeys(dict[str, str | None]):
    """``repr(data.get(name))`` for each name asked for, or None when that value is not
    :func:`plain_data`: computed once per render, however many strings read the name."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__()
        self.data = data

    def __missing__(self, name: str) -> str | None:
        value = self.data.get(name)
        plain = type(value) in _SCALAR_TYPES or plain_data(value)
        key = self[name] = repr(value) if plain else None
        return key


@dataclass(frozen=True)
class _Memoised:
    """An inline template (a validator, a file name) and its results by the values of the
    names it reads: thousands of overlays share most answers (gateway selector, namespaces,
    ports), and these strings are pure functions of what they read."""

    template: Any
    names: tuple[str, ...]
    results: dict[tuple[str | None, ...], str]

    def render(self, data: Mapping[str, Any], keys: _ValueKeys) -> str:
        key = tuple([keys[name] for name in self.names])
        try:
            return self.results[key]
        except KeyError:
            pass
        result = str(self.template.render(**data))
        if None not in key:  # every value read is plain data: memoise
            self.results[key] = result
        return result


@cache
def _memoised(root: Path, source: str, data_names: frozenset[str]) -> _Memoised:
    """``source`` memoised on the values of the names it reads among ``data_names`` (the
    names of the data it renders with: any other name it reads is a constant, a global or
    undefined)."""
    names = tuple(name for name in _referenced(root, source) if name in data_names)
    return _Memoised(_compiled(root, source), names, {})


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


def _fresh(value: Any) -> Any:
    """A copy of a default answer to hand out: ``copy.deepcopy``, faster on plain data."""
    kind = type(value)
    if kind is list:
        return [_fresh(v) for v in value]
    if kind is dict:
        return {k: _fresh(v) for k, v in value.items()}
    if value is None or kind in (str, int, float, bool):
        return value
    return copy.deepcopy(value)


@cache
def _fixed_defaults(template: str) -> dict[str, Any]:
    """The defaults that do not depend on other answers, cast once (hand out _fresh copies)."""
    return {
        q.name: _cast(q, q.default)
        for q in _load_template(template).questions
        if not (isinstance(q.default, str) and "{{" in q.default)
    }


@cache
def _validators(template: str) -> tuple[tuple[_Question, _Memoised | None], ...]:
    tpl = _load_template(template)
    names = frozenset(q.name for q in tpl.questions)  # validators render with the answers
    return tuple(
        (q, _memoised(tpl.root, q.validator, names) if q.validator else None) for q in tpl.questions
    )


_CONTEXT_NAMES = frozenset(["_copier_answers", "_copier_conf"])  # besides the answers


@cache
def _sources(template: str, native_macros: bool) -> tuple[tuple[str, _Memoised, Any], ...]:
    """Each file of ``template``: its source path, its templated name, and its compiled
    content when the source name has the template suffix (else None)."""
    tpl = _load_template(template)
    env = _environment(tpl.root, native_macros)
    names = frozenset(q.name for q in tpl.questions) | _CONTEXT_NAMES
    return tuple(
        (
            str(src),
            _memoised(tpl.root, str(src), names),
            env.get_template(str(src)) if src.name.endswith(TEMPLATE_SUFFIX) else None,
        )
        for src in tpl.files
    )


@cache
def _destination(name: str) -> PurePosixPath:
    return PurePosixPath(name)


def _resolve_answers(tpl: _Template, given: Mapping[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    fixed = _fixed_defaults(tpl.name)
    for q in tpl.questions:
        if q.name in given:
            value = given[q.name]
        elif q.name in fixed:
            value = _fresh(fixed[q.name])
        else:
            value = q.default
            if isinstance(value, str) and "{{" in value:
                value = _compiled(tpl.root, value).render(**answers)
            value = _cast(q, value)
        answers[q.name] = value
    keys = _ValueKeys(answers)
    for q, validator in _validators(tpl.name):
        if q.choices is not None and answers[q.name] not in q.choices:
            raise RenderError(
                f"{tpl.name}: {q.name}: {answers[q.name]!r} is not one of {list(q.choices)}"
            )
        if validator is not None:
            message = validator.render(answers, keys).strip()
            if message:
                raise RenderError(f"{tpl.name}: {q.name}: {message}", hint="check the answers")
    unknown = sorted(set(given) - {q.name for q in tpl.questions})
    if unknown:
        raise RenderError(f"{tpl.name}: unknown answer(s): {', '.join(unknown)}")
    return answers


def render_fast(
    template: str, answers: Mapping[str, Any], *, native_macros: bool = True
) -> Rendering:
    """Render like copier would, without copier's per-run overhead (``native_macros``:
    see :func:`_environment`)."""
    tpl = _load_template(template)
    resolved = _resolve_answers(tpl, answers)
    remembered = {"_src_path": str(tpl.root), **resolved}
    context = {
        **resolved,
        "_copier_answers": remembered,
        "_copier_conf": {"answers_file": tpl.answers_file},
    }
    keys = _ValueKeys(context)
    files: dict[PurePosixPath, bytes] = {}
    for src, name, body in _sources(template, native_macros):
        dest = name.render(context, keys)
        if dest.endswith(TEMPLATE_SUFFIX):
            dest = dest[: -len(TEMPLATE_SUFFIX)]
            if body is None:  # a templated name that renders with the suffix
                body = _environment(tpl.root, native_macros).get_template(src)
            content = body.render(**context).encode("utf-8")
        else:
            content = (tpl.root / src).read_bytes()
        if not dest or dest.endswith("/") or "//" in dest:
            continue  # copier skips files whose templated name renders empty
        files[_destination(dest)] = content
    return _with_digests(template, files)
