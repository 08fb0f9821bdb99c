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
  it exactly. ``netpol edit`` also vets it against the tree (:func:`check_target`); both
  live in :mod:`scaffolder.edit.entries`.
* **Files.** One document, a kustomize Kustomization/Component; anchors or aliases on the
  edited key are refused.
* **Idempotent.** Adding a present entry (``./a/`` equals ``a``) or removing an absent one
  changes nothing and says so.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from scaffolder.core.errors import EditError, YamlError
from scaffolder.core.yamlio import check_duplicates, detect_newline, safe_load_all
from scaffolder.edit.entries import (
    _KUSTOMIZE_KINDS,
    KEYS,
    Key,
    Op,
    check_entry,
    check_target,
    is_remote,
    normalize_entry,
    relative_entry,
)


@dataclass(frozen=True)
class EditResult:
    text: str
    changed: bool
    messages: tuple[str, ...]


def _sort_key(entry: str) -> str:
    return normalize_entry(entry).lower()


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
    return safe_load_all(text)


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
    if "&" not in text and "*" not in text:
        return None  # no anchor or alias anywhere: skip the event walk
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
    return entry if _plain_ok(entry, flow) else _double_quoted(entry)


@functools.lru_cache(maxsize=1024)
def _plain_ok(entry: str, flow: bool) -> bool:
    """Whether ``entry`` written plain re-parses to exactly ``entry`` (the same few entries
    are added to thousands of kustomizations)."""
    context = f"[{entry}]" if flow else f"- {entry}\n"
    try:
        plain_ok = yaml.load(context, Loader=yaml.CSafeLoader) == [entry]
    except yaml.YAMLError:
        plain_ok = False
    return plain_ok and ", " not in entry and not entry.endswith(",")


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
