"""A table of a result document held column by column (issue 16).

``leadsla check`` at 1M leads lists ~290,000 breaches. Made as a dict per row, cleaned and
encoded row by row, they took 1.8 s of a 4.6 s command; :class:`Records` keeps the columns
(plain Python lists) and reads as the list of dicts it stands for, so every consumer of a
result document (CSV, Rich tables, the report, the service, tests) sees rows, while
:func:`leadsla.render.output.to_json` writes it one record a line from the columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload


class Records(Sequence[dict[str, Any]]):
    """Rows as columns: ``Records({"lead_id": ["L1", "L2"], "attempts": [3, None]})`` reads
    as ``[{"lead_id": "L1", "attempts": 3}, {"lead_id": "L2", "attempts": None}]``.

    The values are plain Python ones (str, int, float, bool, None; lists of them), each
    column as long as the others. Equal to a list of the same dicts.
    """

    __slots__ = ("_columns", "_n")

    def __init__(self, columns: dict[str, list[Any]]) -> None:
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"the columns differ in length: {sorted(lengths)}")
        self._columns = columns
        self._n = lengths.pop() if lengths else 0

    @property
    def columns(self) -> dict[str, list[Any]]:
        """The columns, by name, in the order of a row's keys."""
        return self._columns

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> Records: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | Records:
        if isinstance(i, slice):
            return Records({k: v[i] for k, v in self._columns.items()})
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return {k: v[i] for k, v in self._columns.items()}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        keys = list(self._columns)
        for values in zip(*self._columns.values(), strict=True):
            yield dict(zip(keys, values, strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    # unhashable, like the list it stands for (its columns can change)
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Records({len(self)} rows: {', '.join(self._columns)})"
