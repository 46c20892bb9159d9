"""Exceptions and validation issues.

The library raises these; only the command line turns them into messages and exit codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["ERROR", "WARNING"]


class LeadslaError(Exception):
    """Base class of every error leadsla raises on purpose."""


class UsageError(LeadslaError):
    """A command was called the wrong way (exit code 2)."""


class ConfigError(LeadslaError, ValueError):
    """A settings, mapping or policy file is wrong."""


@dataclass(frozen=True)
class Issue:
    """One problem found in the data: what, where (file, row, column, value) and the fix.

    ``row`` is the row as numbered in the file: the header is row 1, the first data row 2.
    ``count`` > 1 means the same problem occurs on that many rows; ``row`` is the first one.
    """

    severity: Severity
    code: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    fix: str = ""
    count: int = 1
    rows: tuple[int, ...] = ()

    @property
    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row:,}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        head = f"{self.where}: " if self.where else ""
        value = f' "{self.value}"' if self.value is not None else ""
        text = f"{head}{self.message}".replace("{value}", value.strip())
        if self.count > 1:
            more = ", ".join(f"{r:,}" for r in self.rows[1:6])
            text += f" ({self.count:,} rows in all" + (f"; also rows {more}" if more else "")
            text += ", …)" if self.count > 6 else ")"
        if self.fix:
            text += f" {self.fix}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "fix": self.fix,
            "count": self.count,
            "rows": list(self.rows),
        }


@dataclass
class IssueSet:
    """Every problem found, collected before anything fails (errors first)."""

    issues: list[Issue] = field(default_factory=list)

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)

    def extend(self, issues: Iterable[Issue]) -> None:
        self.issues.extend(issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "ERROR"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "WARNING"]

    def __iter__(self) -> Iterator[Issue]:
        return iter(sorted(self.issues, key=lambda i: i.severity != "ERROR"))

    def __len__(self) -> int:
        return len(self.issues)

    def grouped(self, severity: Severity = "WARNING") -> list[tuple[Issue, int]]:
        """One (first issue, how many of its kind) per code: the short listing of warnings."""
        first: dict[str, Issue] = {}
        count: dict[str, int] = {}
        for i in self.issues:
            if i.severity != severity:
                continue
            first.setdefault(i.code, i)
            count[i.code] = count.get(i.code, 0) + 1
        return [(first[c], count[c]) for c in first]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise DataError(self)


class DataError(LeadslaError, ValueError):
    """The data cannot be used as it is; ``issues`` lists every problem found."""

    def __init__(self, issues: IssueSet | Issue | str) -> None:
        if isinstance(issues, str):
            issues = Issue("ERROR", "data", issues)
        if isinstance(issues, Issue):
            issues = IssueSet([issues])
        self.issues = issues
        errors = issues.errors
        first = str(errors[0]) if errors else "invalid data"
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(first + more)
