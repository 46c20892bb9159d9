"""The layers hold: ``lint-imports`` (import-linter, contracts in pyproject.toml) passes.

cli/service > render > sla > analysis > io > synth > clock, settings, times, text > errors,
schema; no import cycle between the modules of a package.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
