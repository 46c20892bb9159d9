"""``leadsla demo``: the main job on the embedded default engine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from leadsla.analysis.summary import summarize
from leadsla.cli import app, console, print_accounting, print_warnings
from leadsla.io.source import connect
from leadsla.output import rich_table
from leadsla.settings import load_settings


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the synthetic CRM and results.")
    ] = Path("leadsla-demo"),
    leads: Annotated[
        int, typer.Option("--leads", help="Number of synthetic leads.", min=100)
    ] = 50_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 0,
) -> None:
    """Make a realistic synthetic CRM, validate it and summarise it (the main job)."""
    from leadsla import synth

    started = time.perf_counter()
    data = out / "crm"
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("Generating the synthetic CRM", total=leads)
        synth.generate(
            data,
            leads=leads,
            seed=seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
        check = progress.add_task("Validating", total=1)
        settings = load_settings(data).replace(time_zone="Europe/Berlin")
        ws = connect(data, settings=settings)
        progress.update(check, completed=1)
    with ws:
        print_warnings(ws)
        print_accounting(ws, console)
        s = summarize(ws.leads, ws.activities)
        console.print(
            f"{s.leads:,} leads created {s.first_created:%Y-%m-%d} to {s.last_created:%Y-%m-%d}; "
            f"{s.activities or 0:,} activities.",
            highlight=False,
        )
        console.print(rich_table("Leads by segment and status", s.by_segment_status))
        console.print(rich_table("Activities by kind", s.by_kind))
    console.print(
        f"Data and ground truth in {data}/ (truth.json). "
        f"Done in {time.perf_counter() - started:.1f} s.",
        highlight=False,
    )
