"""Python versions of the hot output macros of the templates' ``_macros.jinja``, for the
``fast`` engine only.

``netpol scaffold --all`` renders thousands of overlays, and a Jinja macro call costs
about as much as rendering twenty lines of template text: the ~30 calls of ``q``,
``match_labels``, ``to_ports`` and the answers-file macros per overlay were most of its
rendering time. The fast engine therefore loads ``_macros.jinja`` with those macros rebound
to the functions below (see :func:`macros_source`); copier, and so ``netpol init`` and
``netpol upgrade``, keep rendering the Jinja macros, and the templates stay plain copier
templates (no ``_jinja_extensions``, which copier only runs for trusted templates).

Each function produces exactly the text of the macro it stands for, for the plain data
answers are made of: ``str``, ``int``, ``float``, ``bool``, ``None`` and ``list``/``dict``
of them. Given anything else (a YAML timestamp, a Jinja ``Undefined``, a port written as a
string, ...) it returns the Jinja macro's own result instead. Tests compare every function
with its macro on random values, and whole overlay renders with and without them; a change
to one of these macros in ``_macros.jinja`` needs the same change here.

Imports nothing beyond the standard library: the fast engine loads it with Jinja.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MACROS_FILE = "_macros.jinja"
NATIVE = ("q", "match_labels", "to_ports", "answers_file", "answers_entries")
# Jinja macros the native ones use as they are (the answers file's prose header).
_HELPERS = ("answers_header",)
_GLOBAL = "netpol_native_macros"  # the environment global macros_source() calls

# q: the same pattern and search as the macro's ``regex_search`` (so ``$`` also matches
# before a final newline, as it does there), and the words YAML 1.1 reads as booleans/null.
_PLAIN_SCALAR = re.compile(r"^[A-Za-z][A-Za-z0-9._/-]*$")
_YAML_WORDS = frozenset(["y", "n", "yes", "no", "true", "false", "on", "off", "null"])
_SCALARS = (str, int, float, bool, type(None))
_SORTED_JSON = json.JSONEncoder(sort_keys=True)  # what json.dumps(value, sort_keys=True) uses


def _key(item: tuple[Any, Any]) -> Any:
    return item[0]  # ``dictsort(true)``: by key, case-sensitive


class NativeMacros:
    """The native macros, each falling back to the Jinja macro it replaces (``jinja``)."""

    def __init__(self, jinja: dict[str, Callable[..., Any]]) -> None:
        self._jinja = jinja
        self._headers: dict[str, str] = {}

    def q(self, value: Any) -> str:
        """A YAML scalar: plain when that is unambiguous, else JSON."""
        kind = type(value)
        if kind is str:
            if _PLAIN_SCALAR.search(value) and value.lower() not in _YAML_WORDS:
                return str(value)
            return json.dumps(value)
        if kind is dict or kind is list:
            return json.dumps(value) if value else ("{}" if kind is dict else "[]")
        if kind in _SCALARS:
            return json.dumps(value)
        return str(self._jinja["q"](value))

    def match_labels(self, indent: Any, labels: Any, namespace: Any = None) -> str:
        """matchLabels lines: the namespace label first (if any), then labels sorted."""
        if type(indent) is not int or type(labels) is not dict:
            return str(self._jinja["match_labels"](indent, labels, namespace))
        pad = " " * indent
        q = self.q
        lines = []
        if namespace is not None:
            lines.append(f"{pad}io.kubernetes.pod.namespace: {q(namespace)}\n")
        for key, value in sorted(labels.items(), key=_key):
            lines.append(f"{pad}{q(key)}: {q(value)}\n")
        return "".join(lines)

    def to_ports(self, indent: Any, ports: Any) -> str:
        """toPorts with one entry per port: numbers, or mappings {port, protocol}."""
        if type(indent) is not int or type(ports) is not list:
            return str(self._jinja["to_ports"](indent, ports))
        pad = " " * indent
        lines = [f"{pad}toPorts:\n{pad}  - ports:\n"]
        for item in ports:
            if type(item) is int:
                port, protocol = item, "TCP"
            elif (
                type(item) is dict
                and type(item.get("port")) is int
                and type(item.get("protocol", "")) is str
            ):
                port, protocol = item["port"], item.get("protocol", "TCP")
            else:
                return str(self._jinja["to_ports"](indent, ports))
            lines.append(f'{pad}      - port: "{port}"\n{pad}        protocol: {protocol}\n')
        return "".join(lines)

    def answers_file(self, template: Any, answers: Any) -> str:
        """The answers file: the header (rendered once per template by its Jinja macro),
        then the entries."""
        if type(template) is not str:
            return str(self._jinja["answers_file"](template, answers))
        header = self._headers.get(template)
        if header is None:
            header = self._headers[template] = str(self._jinja["answers_header"](template))
        return header + self.answers_entries(answers)

    def answers_entries(self, answers: Any) -> str:
        """The answers file's entries: every non-underscore answer, sorted by name."""
        if type(answers) is not dict or any(type(key) is not str for key in answers):
            return str(self._jinja["answers_entries"](answers))
        q = self.q
        lines = []
        for key, value in sorted(answers.items(), key=_key):
            if key.startswith("_"):
                continue
            kind = type(value)
            if kind is dict or kind is list:
                text = _SORTED_JSON.encode(value) if value else "{}" if kind is dict else "[]"
                lines.append(f"{key}: {text}\n")
            elif kind in _SCALARS:
                lines.append(f"{key}: {q(value)}\n")
            else:
                return str(self._jinja["answers_entries"](answers))
        return "".join(lines)


def native_macros(**jinja: Callable[..., Any]) -> NativeMacros:
    """The environment global :func:`macros_source` calls with the Jinja macros."""
    return NativeMacros(jinja)


def macros_source(source: str) -> str:
    """``_macros.jinja`` as the fast engine loads it: the file, then each macro of
    :data:`NATIVE` rebound to its native version (the file's lines keep their numbers)."""
    jinja = ", ".join(f"{name}={name}" for name in NATIVE + _HELPERS)
    rebind = "".join(f"{{%- set {name} = _native.{name} -%}}" for name in NATIVE)
    return f"{source}{{%- set _native = {_GLOBAL}({jinja}) -%}}{rebind}"


def install(environment: Any) -> None:
    """Provide the global :func:`macros_source` needs in a Jinja ``environment``."""
    environment.globals[_GLOBAL] = native_macros
