"""The ``fast`` engine: the copier templates rendered by a Jinja environment configured like
copier's, byte-identical to copier's output (a test proves it for every template).
``netpol scaffold`` renders thousands of small overlays with it; running copier once per
app would take minutes on a large repository.

Beyond skipping copier's per-run work, it renders the hot output macros of
``_macros.jinja`` natively (:mod:`scaffolder.templates.native`)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
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

    loaders: list[BaseLoader] = [FunctionLoader(_inline_source)]
    if native_macros:
        loaders.append(FunctionLoader(partial(_native_macros_source, root)))
    loaders.append(FileSystemLoader(str(root)))
    env = Environment(
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
    """The names a validator reads (from its AST), which are all its result depends on.

    Every loaded name counts, globals included: an answer may shadow one (``namespace``).
    """
    from jinja2 import nodes

    tree = _environment(root, True).parse(source)
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


def render_fast(
    template: str, answers: Mapping[str, Any], *, native_macros: bool = True
) -> Rendering:
    """Render like copier would, without copier's per-run overhead (``native_macros``:
    see :func:`_environment`)."""
    tpl = _load_template(template)
    env = _environment(tpl.root, native_macros)
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
