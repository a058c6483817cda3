"""Compare two runs of `distretto run` the way the student view compares a world with its twin.

    python docs/tutorial/compare.py results/tutorial/russia_2014 results/tutorial/baseline [--short]

Prints, for the last two years of the runs (the last 8 quarters): the district's indicators in both runs and
their difference, then the difference by province (provinces.parquet) and by niche (the firm panel's last
year, firms.parquet). Columns are documented in docs/outputs.md. Run both with the same --seed: the difference
is then the effect of what differs between the two scenarios, as on the page. ``--short``: the district only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

QUARTERS = 8
INDICATORS = ["n_firms", "employment", "n_exporters", "export_sales", "exports_russia", "niche_diversity"]
TOTALS = ["policy_spending", "niche_switches", "n_exits"]


def last_years(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the last QUARTERS quarters."""
    return frame[frame["step"] > frame["step"].max() - QUARTERS]


def district(run: Path) -> pd.Series:
    """The district's indicators over the last quarters, and totals over the whole run."""
    model = pd.read_parquet(run / "model.parquet")
    means = last_years(model)[INDICATORS].mean()
    totals = model[TOTALS].sum().rename(lambda c: f"{c} (whole run)")
    return pd.concat([means, totals])


def by_province(run: Path) -> pd.DataFrame:
    """Employment, exporters and exports by province over the last quarters."""
    provinces = last_years(pd.read_parquet(run / "provinces.parquet"))
    return provinces.groupby("province", observed=True)[["employment", "exporters", "exports"]].mean()


def by_niche(run: Path) -> pd.DataFrame:
    """Firms, employees, exporters and exports by niche at the panel's last year (living firms)."""
    firms = pd.read_parquet(run / "firms.parquet")
    alive = firms[(firms["step"] == firms["step"].max()) & ~firms["exited"]].assign(exporter=lambda f: f.n_markets > 1)
    return alive.groupby("niche", observed=True).agg(
        firms=("firm_id", "size"), employees=("employees", "sum"), exporters=("exporter", "sum"),
        exports=("export_sales", "sum"),
    )  # fmt: skip


def main(world: Path, base: Path, short: bool = False) -> None:
    """Print both runs' district and their difference, then (unless ``short``) by province and by niche."""
    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", None)
    pd.set_option("display.float_format", "{:,.2f}".format)
    table = pd.DataFrame({world.name: district(world), base.name: district(base)})
    table["difference"] = table[world.name] - table[base.name]
    print(f"The district, mean of the last {QUARTERS} quarters (flows in EUR thousand a quarter):\n{table}\n")
    if short:
        return
    print("By province, difference (sorted by exports):")
    print((by_province(world) - by_province(base)).sort_values("exports"), "\n")
    print("By niche at the last panel year, difference (sorted by exports):")
    print((by_niche(world) - by_niche(base)).sort_values("exports"))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--short"]
    if len(args) != 2:
        sys.exit("usage: python docs/tutorial/compare.py RUN_FOLDER BASELINE_FOLDER [--short]")
    main(Path(args[0]), Path(args[1]), short="--short" in sys.argv[1:])
