"""``leadsla demo``: the main job on the embedded default engine, end to end.

synthetic CRM → validate → value → plan → attempts → speed → agree → check → report.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from leadsla.cli.common import console, print_accounting
from leadsla.render.output import rich_table

DEMO_SETTINGS = """\
# Settings of the demo workspace (leadsla.toml): a European B2B company.
currency = "EUR"
time_zone = "Europe/Berlin"
hourly_cost_eur = 60
attempts_per_hour = 6
quota_eur = 400000
quota_period = "month"

[business_hours]
time_zone = "Europe/Berlin"
hours = "Mon-Fri 09:00-18:00"
holiday_country = "DE"
"""


def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the synthetic CRM and all results.")
    ] = Path("leadsla-demo"),
    leads: Annotated[
        int, typer.Option("--leads", help="Number of synthetic leads.", min=1000)
    ] = 50_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 0,
    png: Annotated[
        bool, typer.Option("--png/--no-png", help="Also write PNG copies of the report's charts.")
    ] = True,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Run the live service instead: a working day of the synthetic CRM streamed in "
            "with time compressed, alerts printed by a local webhook sink, the dashboard URL "
            "and a token printed.",
        ),
    ] = False,
    speedup: Annotated[
        float,
        typer.Option("--speedup", help="With --live: seconds of history per real second.", min=1),
    ] = 1200.0,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration", help="With --live: stop after this many seconds (default: Ctrl-C)."
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", help="With --live: the dashboard's port (0: any free one).")
    ] = 8787,
) -> None:
    """Make a realistic synthetic CRM and run every analysis on it: the SLA and its report."""
    if live:
        from leadsla.service.demo import LiveDemo

        LiveDemo(out=out, leads=leads, speedup=speedup, port=port, duration=duration, seed=seed,
                 say=lambda line: print(line, flush=True)).run()  # fmt: skip
        return
    from rich.panel import Panel
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from leadsla import synth
    from leadsla.analysis.summary import summarize
    from leadsla.io.source import connect
    from leadsla.render.document import headline, write_agreement
    from leadsla.render.report import build_report
    from leadsla.settings import load_settings
    from leadsla.sla.agreement import draft_agreement
    from leadsla.sla.compliance import check_compliance
    from leadsla.sla.policy import load_policy

    started = time.perf_counter()
    data = out / "crm"
    columns = (TextColumn("{task.description:<34}"), BarColumn(),
               TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        gen = progress.add_task("Generating the synthetic CRM", total=leads)
        synth.generate(
            data,
            leads=leads,
            seed=seed,
            progress=lambda done, total: progress.update(gen, completed=done, total=total),
        )
        (data / "leadsla.toml").write_text(DEMO_SETTINGS, encoding="utf-8")
        steps = [
            "Validating",
            "value, plan, attempts, speed",
            "Writing the SLA",
            "Checking compliance",
            "Writing the report",
        ]
        task = progress.add_task(steps[0], total=len(steps))
        ws = connect(data, settings=load_settings(data))
        with ws:
            progress.update(task, advance=1, description=steps[1])
            agreement = draft_agreement(ws, quota_eur=None, name="Demo marketing–sales SLA")
            progress.update(task, advance=1, description=steps[2])
            files = write_agreement(agreement, out / "sla")
            progress.update(task, advance=1, description=steps[3])
            policy = load_policy(files.policy)
            check = check_compliance(ws.leads, ws.activities, policy=policy, as_of=agreement.as_of)
            progress.update(task, advance=1, description=steps[4])
            rep = build_report(ws, agreement=agreement, policy=files.policy,
                               as_of=agreement.as_of)  # fmt: skip
            report = rep.write(out / "report.html", png=png)
            progress.update(task, advance=1, description="Done")
            summary = summarize(ws.leads, ws.activities)
            print_accounting(ws, console)
    console.print(rich_table("Leads by segment and status", summary.by_segment_status))
    console.print(Panel("\n".join(headline(agreement)), title="The SLA (draft)",
                        title_align="left"))  # fmt: skip
    c = check.to_dict(max_breaches=0)
    leads_c = c["leads"]
    console.print(
        f"Compliance as of {agreement.as_of:%Y-%m-%d}: {leads_c['met']:,} leads met, "
        f"{leads_c['breached']:,} breached, {leads_c['pending']:,} pending.",
        highlight=False,
    )
    sla_files = f"{files.markdown.name}, {files.html.name} and {files.policy.name} (the policy)"
    charts = (
        f" ({len(report.pngs)} PNG charts in {report.pngs[0].parent.name}/)" if report.pngs else ""
    )
    console.print(
        f"Files in {out}/:\n"
        f"  crm/            the synthetic CRM (Parquet) and its ground truth (truth.json)\n"
        f"  sla/            {sla_files}\n"
        f"  report.html     everything in one page{charts}\n"
        f"Done in {time.perf_counter() - started:.1f} s.",
        highlight=False,
    )
