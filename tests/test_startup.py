"""Startup stays light: ``leadsla --help`` and ``leadsla mappings`` load no engine, dataframe,
plotting or web library (the commands import them when they run). Not a timing test: the
whole-process time is measured by ``benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "ibis",
    "duckdb",
    "pandas",
    "pyarrow",
    "numpy",
    "scipy",
    "plotly",
    "matplotlib",
    "statsmodels",
    "sqlalchemy",
    "fastapi",
    "uvicorn",
)

PROBE = """
import json, runpy, sys
sys.argv = ["leadsla", *json.loads(sys.argv[1])]
try:
    runpy.run_module("leadsla", run_name="__main__")
except SystemExit as e:
    code = e.code
else:
    code = 0
print(json.dumps({"code": code, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


@pytest.mark.parametrize("args", [["--help"], ["mappings"], ["mappings", "--format", "json"]])
def test_no_heavy_module_is_imported(args: list[str], cli_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    assert not set(HEAVY) & set(report["loaded"]), set(HEAVY) & set(report["loaded"])


def test_import_leadsla_is_light(cli_env: dict[str, str]) -> None:
    code = (
        "import json, sys, leadsla; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env, check=True
    )
    assert not set(HEAVY) & set(json.loads(done.stdout)), done.stdout
