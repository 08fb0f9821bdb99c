"""Structured diagnostics: one type for every finding netpol reports about a file.

Schema violations, Cilium semantic checks and (later) lint rules all produce
:class:`Diagnostic` values: a stable code, a severity, where (file, line, column), what
breaks, and how to fix it. Formatting (text, JSON, SARIF, GitHub annotations) is done from
this one shape, never from f-strings built at the point of detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A finding at ``path:line:column`` (1-based; ``None`` when not known)."""

    path: PurePosixPath
    line: int | None
    column: int | None
    code: str
    severity: Severity
    message: str
    hint: str | None = None

    @property
    def location(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity.value}[{self.code}]: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }
