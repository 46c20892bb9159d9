"""Shared fixtures: the CLI as a subprocess, the real data sets, a synthetic CRM, PostgreSQL.

Keep each fixture small and documented; put helpers used by one test file in that file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# the real data sets sit beside the repository, read in place (never copied)
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: screenshots and rendered pages the browser and PDF tests keep (CI uploads the folder)
ARTIFACTS = Path(
    os.environ.get("LEADSLA_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts")
)
#: Debian's chromium, driven by Playwright (executablePath), offline
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session", autouse=True)
def stage_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The stage cache of the whole run in a temporary folder, never the user's ~/.cache
    (subprocesses inherit it); the commands run cold and warm on it like a user's."""
    folder = tmp_path_factory.mktemp("leadsla-cache")
    before = os.environ.get("LEADSLA_CACHE_DIR")
    os.environ["LEADSLA_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("LEADSLA_CACHE_DIR", None)
    else:
        os.environ["LEADSLA_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def cli_env() -> Iterator[dict[str, str]]:
    """The environment of ``python -m leadsla`` subprocesses.

    A wide terminal keeps every issue on one line. When the environment forbids writing
    bytecode (PYTHONDONTWRITEBYTECODE), each subprocess would compile ibis, pandas and sqlglot
    from source (~3 s); they share a bytecode cache in a temporary folder instead, so the source
    tree and the virtualenv stay untouched.
    """
    env = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    if not env.get("PYTHONDONTWRITEBYTECODE"):
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="leadsla-pycache-") as cache:
        env.pop("PYTHONDONTWRITEBYTECODE")
        env["PYTHONPYCACHEPREFIX"] = cache
        yield env


@pytest.fixture(scope="session")
def run_cli(cli_env: dict[str, str]) -> RunCli:
    """Run ``python -m leadsla ARGS…`` in a subprocess; returns the completed process."""

    def run(*args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "leadsla", *map(str, args)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=cli_env,
            timeout=300,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def real_data() -> Path:
    """``../shared/data``: the public data sets the shipped mappings are made for."""
    if not DATA.is_dir():
        pytest.fail(f"the real data sets are missing: expected them in {DATA}")
    return DATA


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli) -> tuple[Path, str]:
    """``leadsla demo`` run once for the session (20,000 leads): its folder and its output.
    tests/test_report.py and tests/test_report_charts.py read it, never write into it."""
    out = tmp_path_factory.mktemp("demo")
    done = run_cli("demo", "--out", out, "--leads", "20000")
    assert done.returncode == 0, done.stderr + done.stdout
    return out, done.stdout


@pytest.fixture(scope="session")
def synthetic_crm():  # type: ignore[no-untyped-def]
    """A small synthetic CRM (``leadsla.synth.generate_frames``, 300 leads) as pandas frames.

    Its as-of date is in the past, so that no activity is after "now" whenever the tests run.
    """
    from leadsla.synth import generate_frames

    return generate_frames(leads=300, seed=7, as_of="2025-06-30T18:00:00+02:00")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server for the tests: LEADSLA_TEST_POSTGRES_URL (never skipped).

    Locally, ``./scripts/start-postgres.sh`` starts one and prints the URL.
    """
    url = os.environ.get("LEADSLA_TEST_POSTGRES_URL")
    if not url:
        pytest.fail(
            "LEADSLA_TEST_POSTGRES_URL is not set: the PostgreSQL tests need a server. Run "
            "./scripts/start-postgres.sh and export the URL it prints, e.g. "
            "LEADSLA_TEST_POSTGRES_URL=postgres://leadsla@127.0.0.1:54329/leadsla_test"
        )
    return url


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One local Spark session for the whole run (local[2], UI off, 2 shuffle partitions),
    its warehouse in a temporary folder; ``pyspark://`` sources opened in this process reuse
    it (``leadsla.io.backends.spark_session``). Stopped at the end."""
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("leadsla-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
