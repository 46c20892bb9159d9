"""``leadsla mappings``: the mappings that ship with leadsla (no engine is loaded)."""

from __future__ import annotations

from leadsla.cli.common import console
from leadsla.cli.options import FormatOpt
from leadsla.io.mapping import load_mapping, shipped_mappings
from leadsla.render.output import Format, emit, rich_table, to_csv, to_json


def mappings(format: FormatOpt = Format.table) -> None:
    """List the mappings that ship with leadsla."""
    rows = []
    for name, path in sorted(shipped_mappings().items()):
        m = load_mapping(path)
        rows.append(
            {
                "name": name,
                "description": m.description,
                "options": ", ".join(f"{k}={v}" for k, v in m.options.items()),
            }
        )
    if format is Format.json:
        emit(to_json({"mappings": rows}), None, console)
    elif format is Format.csv:
        emit(to_csv(rows), None, console)
    else:
        console.print(rich_table("Shipped mappings (--mapping NAME)", rows))
