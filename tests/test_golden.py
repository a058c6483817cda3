"""Golden test: a few small fixed runs must reproduce the committed tables bit for bit.

The reference tables in ``tests/golden/<case>/`` freeze the model's outputs,
so that a change meant to leave results alone (a refactor, a speed-up) is
checked by the test suite rather than by hand. A change *meant* to move
results regenerates them on purpose, and its commit says why:

    make golden            # or: python tests/test_golden.py --regenerate
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.config import load_scenario
from sim.run import run

GOLDEN = Path(__file__).resolve().parent / "golden"
TABLES = ("model", "firms", "provinces", "network")

#: name -> (scenario, seed, firms, quarters): the baseline, a policy window and a shock window.
CASES: dict[str, tuple[str | Path, int, int, int]] = {
    "baseline": ("baseline", 3, 300, 16),
    "policies": (GOLDEN / "policy_window.toml", 5, 400, 16),
    "shocks": (GOLDEN / "shock_window.toml", 2, 300, 16),
}


def write_case(name: str, out: Path) -> None:
    """Run one golden case and write its tables into ``out``."""
    scenario, seed, firms, quarters = CASES[name]
    params = load_scenario(scenario, n_firms=firms, steps=quarters)
    run(params, seed, out, progress=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_match_golden_tables(name: str, tmp_path: Path) -> None:
    write_case(name, tmp_path)
    for table in TABLES:
        expected = pd.read_parquet(GOLDEN / name / f"{table}.parquet")
        actual = pd.read_parquet(tmp_path / f"{table}.parquet")
        assert list(actual.columns) == list(expected.columns), f"{name}/{table}: columns differ"
        for column in expected.columns:
            pd.testing.assert_series_equal(
                actual[column], expected[column], check_exact=True, obj=f"{name}/{table}.{column}"
            )


def regenerate() -> None:
    """Rewrite every case's reference tables (manifests are not kept: they hold dates and commits)."""
    for name in sorted(CASES):
        out = GOLDEN / name
        write_case(name, out)
        (out / "manifest.json").unlink()
        print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regenerate", action="store_true", help="rewrite the reference tables from the current code")
    if not parser.parse_args().regenerate:
        parser.print_help()
        sys.exit(2)
    regenerate()
