"""A command imports only what it uses, when it uses it (issue 16).

Each probe is a fresh interpreter, so a module imported by anything else in the test session
cannot hide one imported by the code under test. Not a timing test: the import and whole-process
times are measured by ``benchmarks/bench_startup.py`` and ``python -X importtime``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer._click.formatting import HelpFormatter
from typer._click.utils import make_default_short_help
from typer.testing import CliRunner

from conftest import RunCli
from leadsla.cli.app import COMMANDS, app

#: imported by the functions that need them, never by the modules of a command's path
LATE = ("scipy.stats", "scipy.optimize", "rich.live", "rich.progress", "rich.status")

#: the modules ``leadsla attempts`` needs to start: the source, the analysis, the command
ATTEMPTS_PATH = ("leadsla.io.source", "leadsla.analysis.attempts", "leadsla.cli.attempts")


def _loaded_after(code: str, env: dict[str, str]) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_app_imports_no_command(cli_env: dict[str, str]) -> None:
    """``import leadsla.cli.app`` registers the commands without importing their modules."""
    loaded = _loaded_after("import leadsla.cli.app", cli_env)
    commands = {m for m, _, _ in COMMANDS.values()}
    assert not commands & loaded, commands & loaded
    assert not {"pandas", "numpy", "ibis", "rich.console", *LATE} & loaded


def test_help_imports_no_command(cli_env: dict[str, str]) -> None:
    code = (
        "import sys; sys.argv = ['leadsla', '--help']\n"
        "from leadsla.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded_after(code, cli_env)
    commands = {m for m, _, _ in COMMANDS.values()}
    assert not commands & loaded, commands & loaded
    assert not {"rich.console", *LATE} & loaded, {"rich.console", *LATE} & loaded


def test_a_command_imports_only_its_own_module(cli_env: dict[str, str]) -> None:
    code = (
        "import sys; sys.argv = ['leadsla', 'attempts', '--help']\n"
        "from leadsla.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded_after(code, cli_env)
    others = {m for m, _, _ in COMMANDS.values()} - {"leadsla.cli.attempts"}
    assert "leadsla.cli.attempts" in loaded
    assert not others & loaded, others & loaded
    assert not {"pandas", "scipy", "ibis", "duckdb", *LATE} & loaded


@pytest.mark.parametrize("module", LATE)
def test_the_attempts_path_imports_no_late_module(module: str, cli_env: dict[str, str]) -> None:
    loaded = _loaded_after(f"import {', '.join(ATTEMPTS_PATH)}", cli_env)
    assert module not in loaded


def test_the_attempts_path_imports_no_pandas(cli_env: dict[str, str]) -> None:
    assert "pandas" not in _loaded_after(f"import {', '.join(ATTEMPTS_PATH)}", cli_env)


def _first_sentence(text: str) -> str:
    words = text.split("\n\n")[0].split()
    for i, word in enumerate(words):
        if word.endswith("."):
            return " ".join(words[: i + 1])
    return " ".join(words)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_summary_is_the_commands_first_sentence(name: str) -> None:
    """``leadsla --help`` shows the summary in COMMANDS: it must be the command's own help
    shortened as Click shortens it (the first sentence), at any terminal width."""
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.name == name and not command.hidden and not command.short_help
    assert COMMANDS[name][2] == _first_sentence(command.help or "")
    for limit in (20, 45, 70, 200):
        assert make_default_short_help(COMMANDS[name][2], limit) == command.get_short_help_str(
            limit
        )


@pytest.mark.parametrize("width", [50, 60, 80, 120, 200])
def test_lazy_listing_is_clicks_listing(width: int) -> None:
    """The group's lazy listing (from COMMANDS, no import) equals Click's own listing made from
    the loaded commands, at any help width."""
    group = typer.main.get_command(app)
    ctx = group.make_context("leadsla", [], resilient_parsing=True)
    lazy, loaded = HelpFormatter(width=width), HelpFormatter(width=width)
    group.format_commands(ctx, lazy)
    super(type(group), group).format_commands(ctx, loaded)  # Click's, loading every command
    assert loaded.getvalue().startswith("Commands:")
    assert lazy.getvalue() == loaded.getvalue()


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines()[1:]]
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_help_runs_in_a_fresh_process(name: str, run_cli: RunCli) -> None:
    done = run_cli(name, "--help")
    assert done.returncode == 0, done.stderr
    assert f"leadsla {name} [OPTIONS]" in done.stdout
    start = " ".join(COMMANDS[name][2].split()[:4])  # the first words (before any wrapping)
    assert start in " ".join(done.stdout.split())


def test_unknown_command_is_a_usage_error_with_a_suggestion(run_cli: RunCli) -> None:
    done = run_cli("attmpts")
    assert done.returncode == 2
    assert "No such command 'attmpts'. Did you mean 'attempts'?" in done.stderr


def test_opening_a_clean_source_imports_no_pandas(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """Reading, checking and publishing a source that holds no problem runs its queries on
    the engine's own cursor: no pandas (0.3 s of ``leadsla validate``); the rows of an issue
    may still be fetched through it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    crm = tmp_path / "crm"
    crm.mkdir()
    ids = [f"L{i}" for i in range(40)]
    created = pa.array([datetime(2026, 1, 5, 10, tzinfo=UTC)] * 40, pa.timestamp("us", "UTC"))
    pq.write_table(
        pa.table({"lead_id": ids, "created_at": created, "status": ["open"] * 40}),
        crm / "leads.parquet",
    )
    pq.write_table(
        pa.table({"lead_id": ids, "at": created, "kind": ["call"] * 40}),
        crm / "activities.parquet",
    )
    code = (
        "import leadsla\n"
        f"ws = leadsla.connect({str(crm)!r}, cache=False)\n"
        "assert not list(ws.issues), [str(i) for i in ws.issues]\n"
        "assert ws.accounting['activities'].used == 40\n"
        "ws.close()"
    )
    loaded = _loaded_after(code, cli_env)
    assert "leadsla.io.source" in loaded
    assert "pandas" not in loaded


def test_fitting_a_prior_imports_no_scipy(cli_env: dict[str, str]) -> None:
    """The beta-binomial fit of ``value`` runs on numpy alone (scipy: ~0.5 s of imports)."""
    code = (
        "from leadsla.analysis.valuestats import fit_beta_binomial\n"
        "p = fit_beta_binomial([3, 9, 1, 14, 6, 2, 11, 5], [100, 120, 90, 110, 95, 80, 130, 70])\n"
        "assert p is not None and p.source == 'fitted'"
    )
    assert not {m for m in _loaded_after(code, cli_env) if m.split(".")[0] == "scipy"}
