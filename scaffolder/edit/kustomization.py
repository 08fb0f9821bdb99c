"""Byte-preserving edits of ``components:`` / ``resources:`` in kustomization files.

``kustomize edit`` re-serialises the whole file and loses comments; a ruamel.yaml round
trip reformats most real files. This editor instead *splices lines*: libyaml locates the
key and its items (line and column marks), the change inserts or deletes only the lines
(or, in a flow list ``[a, b]``, the characters) of the entry, and every other byte stays.
The result is re-parsed and must differ from the original data by exactly the intended
entry, or the edit is refused.

Rules:

* **Where an entry goes.** Into a sorted list (compared by :func:`normalize_entry`,
  case-insensitively) at its sorted place, otherwise at the end. A one-entry list counts
  as sorted (190 real edits replayed: owners insert at the sorted place there too).
  Inserted above the comment lines directly above the entry it precedes, since those
  describe that entry.
* **Missing key.** ``components:`` is created right before ``resources:`` (above the comment
  block that describes it), else after ``namespace:``, else at the end; ``resources:`` is
  created at the end. Lists are indented like the file's other block lists (default: two
  spaces, dash indented).
* **Removal** deletes only the entry's own lines (with its inline comment); comment lines
  around it stay. Emptying a list removes the key when its block holds nothing else, and
  otherwise leaves ``key: []``.
* **Line endings.** New lines use the file's (CRLF stays CRLF); a missing final newline
  stays missing.
* **Entries.** An added entry is one non-empty line (:func:`check_entry`); it is written
  plain when plain re-parses to the very string, else quoted, and the re-parse must hold
  it exactly. ``netpol edit`` also vets it against the tree (:func:`check_target`).
* **Files.** One document, a kustomize Kustomization/Component; anchors or aliases on the
  edited key are refused.
* **Idempotent.** Adding a present entry (``./a/`` equals ``a``) or removing an absent one
  changes nothing and says so.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

from scaffolder.core.errors import EditError, YamlError
from scaffolder.core.yamlio import check_duplicates, detect_newline, read_text

Key = Literal["components", "resources"]
KEYS: tuple[Key, ...] = ("components", "resources")
_KUSTOMIZE_KINDS = {"Kustomization", "Component"}
_KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class Op:
    """One requested edit of a kustomization list."""

    action: Literal["add", "remove"]
    key: Key
    entry: str


@dataclass(frozen=True)
class EditResult:
    text: str
    changed: bool
    messages: tuple[str, ...]


def normalize_entry(entry: str) -> str:
    """The comparable form of a path entry: ``./../../x/`` -> ``../../x``."""
    entry = entry.strip()
    if "://" in entry:  # remote resources (https://..., git::...) compare verbatim
        return entry.rstrip("/")
    return posixpath.normpath(entry) if entry else entry


def _sort_key(entry: str) -> str:
    return normalize_entry(entry).lower()


def relative_entry(kustomization: Path, target: Path) -> str:
    """``target`` relative to the kustomization's directory, as kustomize wants it."""
    return Path(posixpath.relpath(target.as_posix(), kustomization.parent.as_posix())).as_posix()


# --------------------------------------------------------------------------- entry checks

# A URL scheme (https://, ssh://, oci://, file://), git@host:..., git::..., a well-known git
# host, or kustomize's remote query parameters: kustomize fetches these, netpol keeps them.
_REMOTE = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|git@|git::|(?:github\.com|gitlab\.com|bitbucket\.org)/)"
    r"|[?&](?:ref|version|timeout|submodules)="
)
_LINE_BREAKS = {"\n", "\r", "\x85", "\u2028", "\u2029"}


def is_remote(entry: str) -> bool:
    """Whether ``entry`` is a remote reference (URL, git repository, OCI artifact)."""
    return _REMOTE.search(entry) is not None


def check_entry(op: Op) -> None:
    """Refuse an entry that cannot be one list item of a kustomization.

    Added entries must be non-empty and one line: no line break, no control character
    (tab included), no leading or trailing whitespace, and no ``#`` that YAML would read
    as a comment (at the start, or after whitespace). Anything else that YAML would
    re-interpret (``null``, ``*x``, ``[a]``, ``a: b``...) is quoted when written. A removed
    entry only has to be non-empty."""
    entry = op.entry
    what = f"cannot {op.action} {entry!r} {'to' if op.action == 'add' else 'from'} {op.key}"
    if not entry.strip():
        raise EditError(f"{what}: the entry is {'empty' if not entry else 'only whitespace'}")
    if op.action == "remove":
        return
    if any(c in _LINE_BREAKS for c in entry):
        raise EditError(f"{what}: it contains a line break; an entry is one line")
    for c in entry:
        if unicodedata.category(c) == "Cc" or c == "\ufeff":
            raise EditError(f"{what}: it contains the control character U+{ord(c):04X}")
        if unicodedata.category(c) == "Cs" or c in "\ufffe\uffff":  # e.g. undecodable bytes
            raise EditError(f"{what}: it contains U+{ord(c):04X}, which YAML text cannot hold")
    if entry != entry.strip():
        raise EditError(f"{what}: it has leading or trailing whitespace")
    if entry.startswith("#") or re.search(r"\s#", entry):
        raise EditError(f"{what}: a '#' at its start or after a space starts a YAML comment")


def check_target(op: Op, kustomization: Path, repo_root: Path | None) -> None:
    """Refuse a local entry that ``kustomize build`` would refuse, or that leaves the repository.

    kustomize resolves an entry against the kustomization's directory (lexically, then
    symlinks) and, with its default load restrictor ``LoadRestrictionsRootOnly``, refuses
    *files* outside that directory while *directories* (other kustomizations, components)
    may be anywhere. So, for an added entry that is not remote (:func:`is_remote`):

    * an absolute path is refused (kustomize: "new root cannot be absolute");
    * with a repository root (``netpol.yaml`` or ``.git`` above), a path leaving it,
      lexically or through a symlink, is refused: Flux builds from the repository alone;
    * it must exist;
    * a file is a resource only (components are directories) and must be in or below the
      kustomization's directory, after symlinks;
    * a directory must not be the kustomization's own or a parent (kustomize: "cycle
      detected"), must hold a kustomization file, and its kind must fit the key:
      ``Component`` under ``components:``, anything else under ``resources:``.
    """
    entry = op.entry
    if op.action != "add" or is_remote(entry):
        return
    what = f"cannot add {entry!r} to {op.key}"
    if entry.startswith("/") or Path(entry).is_absolute():
        raise EditError(
            f"{what}: an absolute path; kustomize refuses them (give it relative to {kustomization.name})"
        )
    base = Path(os.path.realpath(kustomization.parent))
    lexical = Path(os.path.normpath(base / entry))
    real = Path(os.path.realpath(lexical))
    if repo_root is not None:
        root = Path(os.path.realpath(repo_root))
        if _climbs_out(base, entry, root) or not lexical.is_relative_to(root):
            # Even `../../../home-ops/x` back in: Flux's checkout has another directory name.
            raise EditError(f"{what}: its '..' leave the repository {root} (resolves to {lexical})")
        if not real.is_relative_to(root):
            raise EditError(
                f"{what}: it leaves the repository {root} through a symlink (resolves to {real})"
            )
    try:
        _check_local(op, what, kustomization, base, real)
    except OSError as exc:
        raise EditError(f"{what}: cannot inspect {real} ({exc.strerror or exc})") from exc


def _check_local(op: Op, what: str, kustomization: Path, base: Path, real: Path) -> None:
    """The kustomize rules of :func:`check_target` on the resolved ``real`` target."""
    if not real.exists():
        raise EditError(f"{what}: {real} does not exist, so kustomize could not build this")
    if real.is_file():
        if op.key == "components":
            raise EditError(
                f"{what}: it is a file; a component is a directory with a kustomization of kind Component"
            )
        if not real.is_relative_to(base):
            raise EditError(
                f"{what}: {real} is a file outside the kustomization's directory {base}; "
                "kustomize's default load restrictor (LoadRestrictionsRootOnly) refuses it "
                "(reference a directory with its own kustomization instead)"
            )
        if real == Path(os.path.realpath(kustomization)):
            raise EditError(f"{what}: it is this kustomization file itself")
        return
    if not real.is_dir():
        raise EditError(f"{what}: {real} is neither a file nor a directory")
    if base.is_relative_to(real):
        raise EditError(
            f"{what}: {real} is this kustomization's own directory or a parent of it; "
            "kustomize refuses the cycle"
        )
    target = next(
        (real / n for n in _KUSTOMIZATION_NAMES if (real / n).is_file()),
        None,
    )
    if target is None:
        raise EditError(
            f"{what}: the directory {real} has no kustomization.yaml, kustomization.yml or "
            "Kustomization, so kustomize could not build it"
        )
    kind = _kind_of(target)
    if kind is None:
        return
    if op.key == "components" and kind != "Component":
        raise EditError(
            f"{what}: {target} is a {kind}; components: takes kind Component "
            "(add it under resources:)"
        )
    if op.key == "resources" and kind == "Component":
        raise EditError(f"{what}: {target} is a Component; add it under components:")


def _climbs_out(base: Path, entry: str, root: Path) -> bool:
    """Whether ``entry``, walked from ``base`` part by part, ever goes above ``root``."""
    if not base.is_relative_to(root):
        return True
    depth = len(base.relative_to(root).parts)
    for part in PurePosixPath(entry).parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False


def _kind_of(path: Path) -> str | None:
    """The kind of a kustomization file (kustomize's default: Kustomization); None if unreadable."""
    try:
        for doc in yaml.load_all(read_text(path), Loader=yaml.CSafeLoader):
            if isinstance(doc, dict):
                kind = doc.get("kind", "Kustomization")
                return kind if isinstance(kind, str) else None
            return None
    except (yaml.YAMLError, YamlError):
        return None
    return None


# --------------------------------------------------------------------------- parsing


def _compose(text: str, source: str) -> list[yaml.Node]:
    try:
        return [  # an empty document (`---` alone) is a null scalar: no document at all
            node
            for node in yaml.compose_all(text, Loader=yaml.CSafeLoader)
            if node is not None
            and not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"))
        ]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlError(
            source,
            (exc.problem or exc.context or "invalid YAML").strip(),
            line=mark.line + 1 if mark else None,
            hint="fix the YAML and retry",
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlError(source, str(exc).splitlines()[0], hint="fix the YAML and retry") from exc


def _data(text: str) -> list[Any]:
    return [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]


def _scalar(mapping: yaml.MappingNode, name: str) -> str | None:
    for key, value in mapping.value:
        if (
            isinstance(key, yaml.ScalarNode)
            and key.value == name
            and isinstance(value, yaml.ScalarNode)
        ):
            return str(value.value)
    return None


def _find_root(nodes: list[yaml.Node], source: str) -> tuple[int, yaml.MappingNode]:
    """The kustomization's mapping: the file's one document, a kustomize Kustomization or
    Component (``apiVersion``/``kind`` may be omitted, as kustomize allows)."""
    if len(nodes) > 1:
        # kustomize reads only the first document of a kustomization file.
        raise YamlError(
            source,
            f"{len(nodes)} YAML documents; a kustomization is one document "
            "(kustomize reads only the first), the second starts here",
            line=int(nodes[1].start_mark.line) + 1,
        )
    if not nodes or not isinstance(nodes[0], yaml.MappingNode):
        shape = "empty" if not nodes else type(nodes[0]).__name__.replace("Node", "").lower()
        raise YamlError(source, f"not a kustomization: expected a mapping, found {shape}")
    root = nodes[0]
    kind, api = _scalar(root, "kind"), _scalar(root, "apiVersion")
    group = api.split("/", 1)[0] if api is not None else None
    if (kind is None or kind in _KUSTOMIZE_KINDS) and group in (None, "kustomize.config.k8s.io"):
        return 0, root
    if kind is not None and kind not in _KUSTOMIZE_KINDS:
        raise EditError(
            f"{source} is a {kind}, not a kustomization (apiVersion: {api or '-'}); "
            "netpol edits kustomize.config.k8s.io Kustomization/Component files"
        )
    if kind is not None and group is not None and "fluxcd.io" in group:
        raise EditError(
            f"{source} is a Flux {kind} ({api}), not a kustomization; "
            "edit the kustomization.yaml in the directory its spec.path names"
        )
    raise EditError(
        f"{source} is not a kustomization: kind {kind or '-'} with apiVersion {api} "
        "(kustomize wants kustomize.config.k8s.io/v1beta1 Kustomization or "
        "kustomize.config.k8s.io/v1alpha1 Component)"
    )


def _anchor_problem(text: str, key: str) -> tuple[str, int] | None:
    """The first YAML anchor or alias on ``key`` or inside its value (and its line), if any.

    Walks libyaml's events of the (single) document's root mapping: the key's own event and
    every event of its value. An alias's node would carry the anchor's marks, so nodes
    cannot tell where an alias is written; events can."""
    depth = 0  # collection nesting; the root mapping's keys and values are at depth 1
    position = 0  # index among the root mapping's keys and values
    capturing = False
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            depth, position, capturing = 0, 0, False
            continue
        if isinstance(event, yaml.NodeEvent) and depth == 1 and position % 2 == 0:
            capturing = isinstance(event, yaml.ScalarEvent) and event.value == key
        if capturing and isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            line = int(event.start_mark.line) + 1
            if isinstance(event, yaml.AliasEvent):
                return f"the YAML alias *{event.anchor}", line
            return f"the YAML anchor &{event.anchor}", line
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            if depth == 1:
                position += 1
        elif isinstance(event, yaml.NodeEvent) and depth == 1:
            position += 1
    return None


# --------------------------------------------------------------------------- the editor


class _Editor:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.newline = detect_newline(text)
        self.lines = text.split("\n")  # CR stays at the end of each line in CRLF files
        self.final_newline = text.endswith("\n")
        if self.final_newline:
            self.lines.pop()

    def text(self) -> str:
        out = "\n".join(self.lines)
        return out + "\n" if self.final_newline else out

    def eol(self, index: int) -> str:
        return "\r" if self.lines[index].endswith("\r") else ""

    def body(self, index: int) -> str:
        return self.lines[index].removesuffix("\r")

    def insert_lines(self, at: int, new: list[str]) -> None:
        cr = "\r" if self.newline == "\r\n" else ""
        if at >= len(self.lines) and not self.final_newline and self.lines:
            # Appending after a last line without newline: it gains one, the new last one lacks it.
            self.lines[-1] += cr
            self.lines.extend(line + cr for line in new)
            self.lines[-1] = self.lines[-1].removesuffix("\r")
            return
        self.lines[at:at] = [line + cr for line in new]

    def delete_lines(self, first: int, last: int) -> None:
        """Delete lines ``first..last``; a new last line of a file without final newline loses its CR."""
        was_last = last >= len(self.lines) - 1
        del self.lines[first : last + 1]
        if was_last and not self.final_newline and self.lines:
            self.lines[-1] = self.lines[-1].removesuffix("\r")

    def is_comment(self, index: int) -> bool:
        return self.body(index).lstrip().startswith("#")

    def comment_block_start(self, line: int) -> int:
        """The first of the full-line comments directly above ``line``."""
        while line > 0 and self.is_comment(line - 1):
            line -= 1
        return line


def _block_indent(root: yaml.MappingNode, key_column: int) -> str:
    """Indentation for a new block list under a root key: like the file's other lists."""
    for key, value in root.value:
        if isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
            offset = int(value.start_mark.column) - int(key.start_mark.column)
            return " " * (key_column + max(offset, 0))
    return " " * (key_column + 2)


def _style(items: Sequence[yaml.Node]) -> str | None:
    styles = {item.style if isinstance(item, yaml.ScalarNode) else "?" for item in items}
    return styles.pop() if len(styles) == 1 else None


def _render_scalar(entry: str, style: str | None, *, flow: bool = False) -> str:
    """``entry`` as YAML that re-parses to exactly ``entry`` inside a block (``- x``) or flow
    (``[x]``) list: like its neighbours (``style``), else plain when plain re-parses
    unchanged, else double-quoted."""
    if style == "'" and "'" not in entry:
        return f"'{entry}'"
    if style == '"':
        return _double_quoted(entry)
    context = f"[{entry}]" if flow else f"- {entry}\n"
    try:
        plain_ok = yaml.load(context, Loader=yaml.CSafeLoader) == [entry]
    except yaml.YAMLError:
        plain_ok = False
    return (
        entry
        if plain_ok and ", " not in entry and not entry.endswith(",")
        else _double_quoted(entry)
    )


def _double_quoted(entry: str) -> str:
    """A YAML double-quoted scalar: JSON's escapes of ``"`` and ``\\``, other characters as
    they are (YAML has no surrogate pairs, so ``\\ud83d\\ude00`` would not re-parse)."""
    return json.dumps(entry, ensure_ascii=False)


def _find_key(root: yaml.MappingNode, name: str) -> tuple[yaml.ScalarNode, yaml.Node] | None:
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return key, value
    return None


def _apply_one(
    text: str, op: Op, source: str, check: Callable[[Op], None] | None = None
) -> tuple[str, str | None]:
    """Apply one op; returns (new text, message when it was a no-op). ``check`` vets an
    entry about to be added (not one already present)."""
    nodes = _compose(text, source)
    for node in nodes:
        check_duplicates(node, source)
    _, root = _find_root(nodes, source)
    anchor = _anchor_problem(text, op.key)
    if anchor is not None:
        raise YamlError(
            source,
            f"{op.key} uses {anchor[0]}; netpol does not edit anchored or aliased lists",
            line=anchor[1],
            hint="edit it by hand",
        )
    found = _find_key(root, op.key)
    wanted = normalize_entry(op.entry)
    ed = _Editor(text, source)

    if found is None:
        if op.action == "remove":
            return text, f"{op.key}: {op.entry} not present; nothing to remove"
        if check is not None:
            check(op)
        return _create_key(ed, root, op), None
    key, value = found
    if (
        isinstance(value, yaml.ScalarNode)
        and value.value in ("", "~", "null")
        and value.tag.endswith(":null")
    ):
        if op.action == "remove":
            return text, f"{op.key}: {op.entry} not present; nothing to remove"
        if check is not None:
            check(op)
        indent = _block_indent(root, key.start_mark.column)
        line = key.start_mark.line
        body = ed.body(line)
        if value.value:  # `key: ~` or `key: null` -> `key:`
            start, end = value.start_mark.column, value.end_mark.column
            body = (
                (body[:start] + body[end:]).rstrip()
                if "#" not in body[end:]
                else body[:start] + body[end:].lstrip()
            )
            ed.lines[line] = body + ed.eol(line)
        ed.insert_lines(line + 1, [f"{indent}- {_render_scalar(op.entry, None)}"])
        return ed.text(), None
    if not isinstance(value, yaml.SequenceNode):
        raise EditError(f"{source}: {op.key} is not a list (line {key.start_mark.line + 1})")
    items = list(value.value)
    values = [
        normalize_entry(str(i.value)) if isinstance(i, yaml.ScalarNode) else None for i in items
    ]
    if op.action == "add":
        if wanted in values:
            return text, f"{op.key}: {op.entry} already present"
        if check is not None:
            check(op)
        return (_add_flow if value.flow_style else _add_block)(ed, value, items, op), None
    if wanted not in values:
        return text, f"{op.key}: {op.entry} not present; nothing to remove"
    index = values.index(wanted)
    if value.flow_style:
        return _remove_flow(ed, value, items, index), None
    return _remove_block(ed, key, value, items, index), None


def _insert_index(items: list[yaml.Node], entry: str) -> int:
    keys = [_sort_key(str(i.value)) if isinstance(i, yaml.ScalarNode) else None for i in items]
    # A one-entry list counts as sorted: owners insert at the sorted place there too.
    if keys and None not in keys and keys == sorted(keys):  # type: ignore[type-var]
        new = _sort_key(entry)
        for index, existing in enumerate(keys):
            if existing is not None and existing > new:
                return index
    return len(items)


def _add_block(ed: _Editor, seq: yaml.SequenceNode, items: list[yaml.Node], op: Op) -> str:
    index = _insert_index(items, op.entry)
    first = items[0]
    dash_column = seq.start_mark.column
    # The dash of the first item is at the sequence's start; items are `- value`.
    gap = (
        first.start_mark.column - dash_column if first.start_mark.line == seq.start_mark.line else 2
    )
    line = f"{' ' * dash_column}-{' ' * max(gap - 1, 1)}{_render_scalar(op.entry, _style(items))}"
    if index < len(items):
        at = ed.comment_block_start(items[index].start_mark.line)
    else:
        last = items[-1]
        end = last.end_mark.line if last.end_mark.column > 0 else last.end_mark.line - 1
        at = max(end, last.start_mark.line) + 1
    ed.insert_lines(at, [line])
    return ed.text()


def _splice(
    ed: _Editor, line: int, start: int, end: int, replacement: str, end_line: int | None = None
) -> str:
    end_line = line if end_line is None else end_line
    head = ed.body(line)[:start]
    tail = ed.lines[end_line][end:]
    ed.lines[line : end_line + 1] = [head + replacement + tail]
    return ed.text()


def _add_flow(ed: _Editor, seq: yaml.SequenceNode, items: list[yaml.Node], op: Op) -> str:
    rendered = _render_scalar(op.entry, _style(items), flow=True)
    if not items:
        start, end = seq.start_mark, seq.end_mark  # `[` .. `]`
        return _splice(ed, start.line, start.column + 1, end.column - 1, rendered, end.line)
    index = _insert_index(items, op.entry)
    if index < len(items):
        mark = items[index].start_mark
        return _splice(ed, mark.line, mark.column, mark.column, f"{rendered}, ")
    mark = items[-1].end_mark
    return _splice(ed, mark.line, mark.column, mark.column, f", {rendered}")


def _remove_flow(ed: _Editor, seq: yaml.SequenceNode, items: list[yaml.Node], index: int) -> str:
    item = items[index]
    if len(items) == 1:
        s, e = item.start_mark, item.end_mark
    elif index < len(items) - 1:
        s, e = item.start_mark, items[index + 1].start_mark
    else:
        s, e = items[index - 1].end_mark, item.end_mark
    return _splice(ed, s.line, s.column, e.column, "", e.line)


def _remove_block(
    ed: _Editor, key: yaml.ScalarNode, seq: yaml.SequenceNode, items: list[yaml.Node], index: int
) -> str:
    item = items[index]
    first = item.start_mark.line
    last = item.end_mark.line if item.end_mark.column > 0 else item.end_mark.line - 1
    last = max(last, first)
    if len(items) > 1:
        ed.delete_lines(first, last)
        return ed.text()
    # Emptying the list: drop the key if its block holds nothing but the key and the entry.
    key_line = key.start_mark.line
    block = range(key_line + 1, last + 1)
    only_entry = all(ed.body(i).strip() == "" for i in block if not first <= i <= last) and not any(
        ed.is_comment(i) for i in block
    )
    key_body = ed.body(key_line)
    after_colon = key_body[key.end_mark.column :]
    if only_entry and "#" not in after_colon and key_line < first:
        ed.delete_lines(key_line, last)
        return ed.text()
    ed.delete_lines(first, last)
    colon = key_body.index(":", key.end_mark.column)
    rest = key_body[colon + 1 :]
    comment = f" {rest.strip()}" if rest.strip().startswith("#") else ""
    ed.lines[key_line] = f"{key_body[: colon + 1]} []{comment}" + ed.eol(key_line)
    return ed.text()


def _create_key(ed: _Editor, root: yaml.MappingNode, op: Op) -> str:
    column = root.start_mark.column
    indent = _block_indent(root, column)
    new = [f"{' ' * column}{op.key}:", f"{indent}- {_render_scalar(op.entry, None)}"]
    anchor = _find_key(root, "resources") if op.key == "components" else None
    if anchor is not None:
        at = ed.comment_block_start(anchor[0].start_mark.line)
    else:
        ns = _find_key(root, "namespace") if op.key == "components" else None
        if ns is not None and ns[1].end_mark.line == ns[0].start_mark.line:
            at = ns[0].start_mark.line + 1
        else:
            end = root.end_mark
            at = end.line if end.column == 0 else end.line + 1
            # Trailing comment lines after the mapping stay last.
            while (
                at > 0
                and at <= len(ed.lines)
                and (ed.is_comment(at - 1) or ed.body(at - 1).strip() == "")
                and at - 1 > root.value[-1][1].end_mark.line
            ):
                at -= 1
    ed.insert_lines(at, new)
    return ed.text()


def _verify(before: str, after: str, ops: Sequence[Op], source: str) -> None:
    """The data must differ by exactly the requested entries."""
    try:
        old_docs, new_docs = _data(before), _data(after)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise EditError(f"{source}: the edit would not re-parse ({problem}); refused") from exc
    if len(old_docs) != len(new_docs):
        raise EditError(f"{source}: the edit would change the number of YAML documents; refused")
    for old, new in zip(old_docs, new_docs, strict=True):
        if old == new:
            continue
        if not isinstance(old, dict) or not isinstance(new, dict):
            raise EditError(f"{source}: the edit changed more than the list; refused")
        expected = dict(old)
        for op in ops:
            current = list(expected.get(op.key) or [])
            norm = [normalize_entry(str(e)) for e in current]
            if op.action == "add" and normalize_entry(op.entry) not in norm:
                current.append(op.entry)
            elif op.action == "remove" and normalize_entry(op.entry) in norm:
                del current[norm.index(normalize_entry(op.entry))]
            expected[op.key] = current
        got = dict(new)
        for name in KEYS:
            old_list = expected.get(name)
            new_list = got.get(name)
            # Exact strings: an entry must re-parse as given (no lost quote or space).
            if sorted(str(e) for e in (old_list or [])) != sorted(str(e) for e in (new_list or [])):
                raise EditError(f"{source}: the edit did not change {name} as intended; refused")
            expected.pop(name, None)
            got.pop(name, None)
        if expected != got:
            raise EditError(f"{source}: the edit changed other keys; refused")


def edit_text(
    text: str,
    ops: Sequence[Op],
    *,
    source: str = "kustomization.yaml",
    check: Callable[[Op], None] | None = None,
) -> EditResult:
    """Apply ``ops`` in order to the kustomization ``text``.

    Every entry must pass :func:`check_entry` (nothing is edited otherwise); ``check``
    (e.g. :func:`check_target`) additionally vets each entry that is actually added."""
    current = text
    messages: list[str] = []
    for op in ops:
        if op.key not in KEYS:
            raise EditError(f"cannot edit {op.key!r}; netpol edits components and resources")
        check_entry(op)
    if not ops:
        _check_all(text, source)
    for op in ops:
        current, message = _apply_one(current, op, source, check)
        if message:
            messages.append(message)
    if current != text:
        _verify(text, current, ops, source)
    return EditResult(current, current != text, tuple(messages))


def _check_all(text: str, source: str) -> None:
    nodes = _compose(text, source)
    for node in nodes:
        check_duplicates(node, source)
    _find_root(nodes, source)


__all__ = [
    "KEYS",
    "EditResult",
    "Key",
    "Op",
    "check_entry",
    "check_target",
    "edit_text",
    "is_remote",
    "normalize_entry",
    "relative_entry",
]
