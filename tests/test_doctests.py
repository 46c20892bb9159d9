"""Every example in a docstring of leadsla runs and shows what it says (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import leadsla

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(leadsla.__path__, "leadsla.")
    if not m.name.endswith("__main__")
)


def _with_examples(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    return (
        spec is not None
        and spec.origin is not None
        and ">>>" in Path(spec.origin).read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("name", [m for m in MODULES if _with_examples(m)])
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_one_grouping_rule_for_every_analysis(tmp_path: Path) -> None:
    """value, attempts and speed read ``--by`` through one parser: the same names, the same
    error for a column that is no lead type (issue 9: one grouping module)."""
    from leadsla.analysis.attempts import _by
    from leadsla.analysis.grouping import parse_by
    from leadsla.analysis.value import normalize_by
    from leadsla.errors import ConfigError

    cols = ["lead_id", "segment", "owner", "campaign", "created_at", "revenue", "status"]
    assert normalize_by("Segment, OWNER", cols) == _by("segment,owner", cols)
    assert normalize_by("type", cols) == ("campaign_type",)  # value joins the campaign type
    for bad in ("revenue", "status", "created_at", "nope"):
        for parse in (normalize_by, _by, lambda b, c: parse_by(b, c, what="stratify speed")):
            with pytest.raises(ConfigError, match=f'by "{bad}": choose among'):
                parse(bad, cols)
    with pytest.raises(ConfigError, match="appears twice"):
        _by("segment,Segment", cols)
    with pytest.raises(ConfigError, match="at most 1 column"):
        parse_by("segment,owner", cols, most=1)
