"""Robust policy advice: which policy ranks first across plausible worlds, what it risks, and when it fails.

A robustness experiment runs the baseline and every policy in each world
(sim/experiments/worlds.py), replication r of a world with the same seed in
every scenario, so that within a world each policy is compared with the
baseline on paired differences exactly as a compare experiment would
(``analysis.paired_effects``: t intervals Bonferroni-adjusted over the
policies). Across worlds this module then measures:

- **ranks**: in each world the policies are ranked by their mean paired
  effect on each outcome (1 = largest; ties share their places evenly); the
  probability of ranking first and the mean rank over worlds (``ranks.csv``),
  and the same on effect per EUR million of policy cost;
- **regret**: in each world, a policy's shortfall from the best policy's
  effect there; its mean and 90th percentile over worlds, and the share of
  worlds where the policy's effect is significantly positive (``regret.csv``);
- **scenario discovery**: for each policy and outcome, the worlds where it
  loses its usual rank, or its significant effect, described as a box of
  world parameters found by PRIM (the ``prim`` package, Friedman and Fisher
  1999, as in Bryant and Lempert 2010), or by a CART tree (scikit-learn)
  where PRIM finds none; each box with its coverage (share of the failing
  worlds inside it) and density (share of the worlds inside it that fail)
  (``failure_boxes.csv``).

Every table is computed from the runs stored by the runner, so the report
can be rebuilt at any time.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import prim  # noqa: E402
import seaborn as sns  # noqa: E402
from scipy.stats import binom  # noqa: E402

from sim.experiments.analysis import paired_effects  # noqa: E402
from sim.experiments.definitions import Discovery, Robustness  # noqa: E402
from sim.experiments.figures import save_figure  # noqa: E402
from sim.experiments.worlds import DEFAULT_VARIANT, world_table  # noqa: E402
from sim.run import atomic_write  # noqa: E402

#: What a policy is ranked on: the mean paired effect, or the effect per EUR million of policy cost.
METRICS = {"effect": "effect", "per_meur": "effect_per_meur"}
#: Fewer worlds with an event than this: too rare to describe by a box.
MIN_CASES = 3
#: A box must make its event at least this much more frequent than it is over all worlds.
MIN_LIFT = 1.2
#: ... and be that dense with at most this probability by chance (one-sided binomial test against the event's share).
P_MAX = 0.05
#: A box's restrictions with a larger quasi-p value (Bryant and Lempert 2010) are dropped if the box stays acceptable.
QP_MAX = 0.05
#: The report lists at most this many boxes that do not hold after the correction for the number of events searched.
HINTS_SHOWN = 8
#: The status of an event searched without success.
NO_BOX = "no box found (neither PRIM nor CART: the event is not confined to a region of worlds)"
#: The prefix of a variant's 0/1 column in the inputs of scenario discovery.
VARIANT_PREFIX = "variant="


# --------------------------------------------------------------------------
# Effects in every world


def world_effects(summary: pd.DataFrame, experiment: Robustness, worlds: pd.DataFrame) -> pd.DataFrame:
    """Per world, policy and outcome: the paired effect against the world's baseline, its interval and cost.

    The columns of ``effects.csv`` of a compare experiment (computed in each
    world by ``paired_effects``), preceded by ``world``, ``variant`` and the
    world's parameter values, with ``significant_positive`` and, per world
    and outcome, ``rank`` (on the effect) and ``rank_per_meur`` (ties share
    their places: the average rank) and ``regret`` (the best policy's effect
    in the world minus this one's).
    """
    frames = []
    params = [c for c in worlds.columns if c not in ("world", "variant")]
    for world in worlds.to_dict("records"):
        part = summary[summary["point"] == world["world"]]
        if part.empty:
            continue
        effects = paired_effects(part, experiment)
        if effects.empty:
            continue
        effects = effects.drop(columns=["rank_effect", "rank_per_meur"])
        for j, name in enumerate(["world", "variant", *params]):
            effects.insert(j, name, world[name])
        frames.append(effects)
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    table["significant_positive"] = table["significant"] & (table["effect"] > 0)
    groups = table.groupby(["world", "outcome"], sort=False)
    table["rank"] = groups["effect"].rank(ascending=False, method="average")
    per_meur = table["effect_per_meur"].fillna(-np.inf)
    table["rank_per_meur"] = per_meur.groupby([table["world"], table["outcome"]]).rank(
        ascending=False, method="average"
    )
    table["regret"] = groups["effect"].transform("max") - table["effect"]
    return table


def _positions(values: np.ndarray) -> np.ndarray:
    """P[i, k]: the share of rank k + 1 that policy i holds; tied policies share their places evenly, NaN ranks last."""
    v = np.where(np.isnan(values), -np.inf, values)
    m = len(v)
    out = np.zeros((m, m))
    start = 0
    for value in np.unique(v)[::-1]:
        members = np.flatnonzero(v == value)
        out[np.ix_(members, np.arange(start, start + members.size))] = 1.0 / members.size
        start += members.size
    return out


def complete_worlds(effects: pd.DataFrame, policies: list[str]) -> pd.DataFrame:
    """The rows of worlds (per outcome) where every policy has an effect: ranks need all of them."""
    ok = effects.dropna(subset=["effect"])
    counts = ok.groupby(["world", "outcome"])["scenario"].transform("nunique")
    return ok[(counts == len(policies)) & ok["scenario"].isin(policies)]


def rank_distribution(effects: pd.DataFrame, policies: list[str]) -> pd.DataFrame:
    """``scenario, outcome, metric, rank, probability``: the share of worlds where a policy holds each rank."""
    rows = []
    full = complete_worlds(effects, policies)
    for metric, column in METRICS.items():
        for outcome, part in full.groupby("outcome", sort=False):
            total = np.zeros((len(policies), len(policies)))
            worlds = 0
            for _, world in part.groupby("world", sort=True):
                values = world.set_index("scenario").reindex(policies)[column].to_numpy(dtype=float)
                total += _positions(values)
                worlds += 1
            for i, scenario in enumerate(policies):
                for k in range(len(policies)):
                    rows.append(
                        {
                            "scenario": scenario,
                            "outcome": outcome,
                            "metric": metric,
                            "rank": k + 1,
                            "probability": total[i, k] / worlds if worlds else np.nan,
                            "worlds": worlds,
                        }
                    )
    return pd.DataFrame(rows)


def rank_table(effects: pd.DataFrame, policies: list[str]) -> pd.DataFrame:
    """``ranks.csv``: per policy, outcome and metric, the probability of ranking first and the mean rank.

    Also the standard deviation of the rank, the probability of ranking in
    the top two, the most frequent rank and the number of worlds.
    """
    dist = rank_distribution(effects, policies)
    if dist.empty:
        return pd.DataFrame(columns=["scenario", "outcome", "p_best", "mean_rank", "metric"])
    rows = []
    for (scenario, outcome, metric), part in dist.groupby(["scenario", "outcome", "metric"], sort=False):
        p = part.sort_values("rank")["probability"].to_numpy()
        k = np.arange(1, len(p) + 1)
        mean = float((k * p).sum())
        rows.append(
            {
                "scenario": scenario,
                "outcome": outcome,
                "p_best": float(p[0]),
                "mean_rank": mean,
                "metric": metric,
                "rank_sd": float(np.sqrt(max((k**2 * p).sum() - mean**2, 0.0))),
                "p_top2": float(p[:2].sum()),
                "modal_rank": int(k[np.argmax(p)]),
                "worlds": int(part["worlds"].iloc[0]),
            }
        )
    table = pd.DataFrame(rows)
    table["metric"] = pd.Categorical(table["metric"], list(METRICS))
    order = {name: i for i, name in enumerate(dict.fromkeys(effects["outcome"]))}
    table = table.sort_values(
        ["metric", "outcome", "mean_rank"], key=lambda s: s.map(order) if s.name == "outcome" else s
    )
    table["metric"] = table["metric"].astype(str)
    return table.reset_index(drop=True)


def regret_table(effects: pd.DataFrame, policies: list[str]) -> pd.DataFrame:
    """``regret.csv``: per policy, outcome and metric, the shortfall from the best policy in each world.

    ``mean_regret`` and ``p90_regret`` (90th percentile, numpy's linear
    interpolation) in the outcome's units (per EUR million for
    ``per_meur``), ``mean_regret_pct`` in % of the world's baseline mean,
    and the shares of worlds where the effect is significantly positive or
    negative.
    """
    full = complete_worlds(effects, policies)
    rows = []
    for metric, column in METRICS.items():
        values = full[column].astype(float)
        best = values.groupby([full["world"], full["outcome"]]).transform("max")
        regret = best - values
        pct = 100.0 * regret / full["baseline_mean"].where(full["baseline_mean"] != 0)
        frame = full.assign(_regret=regret, _pct=pct)
        for (outcome, scenario), part in frame.groupby(["outcome", "scenario"], sort=False):
            r = part["_regret"].to_numpy(dtype=float)
            r = r[np.isfinite(r)]
            rows.append(
                {
                    "scenario": scenario,
                    "outcome": outcome,
                    "metric": metric,
                    "worlds": int(part["world"].nunique()),
                    "mean_regret": float(r.mean()) if r.size else np.nan,
                    "p90_regret": float(np.percentile(r, 90)) if r.size else np.nan,
                    "max_regret": float(r.max()) if r.size else np.nan,
                    "mean_regret_pct": float(part["_pct"].mean()) if metric == "effect" else np.nan,
                    "p_significant_positive": float(part["significant_positive"].mean()),
                    "p_significant_negative": float((part["significant"] & (part["effect"] < 0)).mean()),
                    "mean_effect": float(part["effect"].mean()),
                }
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=["scenario", "outcome", "metric", "mean_regret", "p90_regret"])
    return table.sort_values(["metric", "outcome", "mean_regret"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------
# Scenario discovery


Restriction = tuple[str, float | None, float | None]  # (parameter, lower bound, upper bound); None: unrestricted


@dataclass
class Box:
    """A box of world parameters: where an event concentrates."""

    method: str  # "prim" or "cart"
    coverage: float
    density: float
    mass: float
    restrictions: list[Restriction]
    max_qp: float = np.nan  # the largest quasi-p value of the box's bounds (Bryant and Lempert 2010)
    trajectory: pd.DataFrame | None = None  # PRIM's peeling trajectory
    chosen: int = -1  # the trajectory's row that was chosen (before bounds that are not significant were dropped)
    cases: int = 0
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)  # data range of each restricted parameter
    p_value: float = np.nan  # the box's density by chance (box_p_value)


def discovery_inputs(worlds: pd.DataFrame) -> pd.DataFrame:
    """The worlds as PRIM sees them: numeric parameters that vary, and a 0/1 column per variant other than default."""
    x = worlds.drop(columns=["world", "variant"]).astype(float)
    for name in sorted(set(worlds["variant"]) - {DEFAULT_VARIANT}):
        x[f"{VARIANT_PREFIX}{name}"] = (worlds["variant"] == name).astype(float).to_numpy()
    varying = [c for c in x.columns if x[c].nunique() > 1]
    return x[varying].reset_index(drop=True)


def box_p_value(coverage: float, density: float, y: np.ndarray) -> float:
    """How likely a box this dense is by chance: the one-sided binomial test of its H cases among its T worlds
    against the event's share over all worlds, P(X >= H), X ~ Binomial(T, share)."""
    cases = int(round(coverage * y.sum()))
    worlds = int(round(cases / density)) if density > 0 else 0
    return float(binom.sf(cases - 1, worlds, y.mean())) if worlds else 1.0


def _acceptable(coverage: float, density: float, dims: int, y: np.ndarray, settings: Discovery) -> bool:
    return (
        1 <= dims <= settings.max_dims
        and coverage >= settings.min_coverage
        and density >= settings.min_density
        and density >= MIN_LIFT * y.mean()
        and box_p_value(coverage, density, y) <= P_MAX
    )


def prim_box(x: pd.DataFrame, y: np.ndarray, settings: Discovery) -> Box | None:
    """PRIM's first box for ``y``: along its peeling trajectory, the densest box that is acceptable, or None.

    Acceptable: it restricts 1 to ``max_dims`` parameters, holds at least
    ``min_coverage`` of the cases, at least ``min_density`` of its worlds
    are cases, its density is at least 1.2 times the share of cases over
    all worlds, and a density that high has a probability of at most 0.05
    by chance (``box_p_value``; the box was chosen for its density, so this
    screens out boxes that noise alone makes, it does not prove the others).
    """
    y = np.asarray(y, dtype=bool)
    finder = prim.Prim(x, y, threshold=0.5, threshold_type=">", peel_alpha=settings.peel_alpha)
    found = finder.find_box()
    if found is None:
        return None
    trajectory = found.peeling_trajectory.reset_index(drop=True).astype(float)
    best = None
    for i, row in trajectory.iterrows():
        if _acceptable(row["coverage"], row["density"], int(row["res dim"]), y, settings):
            key = (row["density"], row["coverage"], -row["res dim"])
            if best is None or key > best[0]:
                best = (key, int(i))
    if best is None:
        return None
    chosen = best[1]
    found.select(chosen)
    limits = found.limits
    restrictions: list[Restriction] = []
    for name, row in limits.iterrows():
        lo, hi = float(x[name].min()), float(x[name].max())
        low = float(row["min"]) if row["min"] > lo else None
        high = float(row["max"]) if row["max"] < hi else None
        if low is not None or high is not None:
            restrictions.append((str(name), low, high))
    return _box("prim", x, y, restrictions, settings, trajectory, chosen)


def _inside(x: pd.DataFrame, restrictions: list[Restriction]) -> np.ndarray:
    """Which worlds lie in the box (bounds included)."""
    mask = np.ones(len(x), dtype=bool)
    for name, low, high in restrictions:
        values = x[name].to_numpy(dtype=float)
        if low is not None:
            mask &= values >= low
        if high is not None:
            mask &= values <= high
    return mask


def _stats(x: pd.DataFrame, y: np.ndarray, restrictions: list[Restriction]) -> tuple[float, float, float]:
    """Coverage, density and mass of a box."""
    inside = _inside(x, restrictions)
    cases = float(y[inside].sum())
    return cases / max(float(y.sum()), 1.0), cases / max(float(inside.sum()), 1.0), float(inside.mean())


def _relax(restrictions: list[Restriction], i: int, side: int) -> list[Restriction]:
    name, low, high = restrictions[i]
    low, high = (None, high) if side == 0 else (low, None)
    rest = (
        restrictions[:i] + ([(name, low, high)] if low is not None or high is not None else []) + restrictions[i + 1 :]
    )
    return rest


def _side_qp(x: pd.DataFrame, y: np.ndarray, restrictions: list[Restriction], i: int, side: int) -> float:
    """Quasi-p value of one bound (Bryant and Lempert 2010, one-sided binomial test): could the box's density
    come from the box without that bound?"""
    inside = _inside(x, restrictions)
    wider = _inside(x, _relax(restrictions, i, side))
    p = float(y[wider].sum()) / max(float(wider.sum()), 1.0)
    return float(binom.sf(int(y[inside].sum()) - 1, int(inside.sum()), p))


def _box(
    method: str,
    x: pd.DataFrame,
    y: np.ndarray,
    restrictions: list[Restriction],
    settings: Discovery,
    trajectory: pd.DataFrame | None = None,
    chosen: int = -1,
) -> Box:
    """The box with its bounds that are not significant (quasi-p > 0.05) dropped, one at a time while it stays
    acceptable (a bound often only peels off a world or two of noise), and its statistics."""
    while True:
        sides = [
            (_side_qp(x, y, restrictions, i, side), i, side)
            for i, (_, low, high) in enumerate(restrictions)
            for side, bound in ((0, low), (1, high))
            if bound is not None
        ]
        worst, i, side = max(sides)
        if worst <= QP_MAX or len(sides) == 1:
            break
        candidate = _relax(restrictions, i, side)
        coverage, density, _ = _stats(x, y, candidate)
        if not _acceptable(coverage, density, len(candidate), y, settings):
            break
        restrictions = candidate
    coverage, density, mass = _stats(x, y, restrictions)
    ranges = {name: (float(x[name].min()), float(x[name].max())) for name, _, _ in restrictions}
    p_value = box_p_value(coverage, density, y)
    return Box(method, coverage, density, mass, restrictions, worst, trajectory, chosen, int(y.sum()), ranges, p_value)


def cart_box(x: pd.DataFrame, y: np.ndarray, settings: Discovery) -> Box | None:
    """The densest acceptable node of a shallow classification tree (scikit-learn CART), or None.

    Every node of the tree (a leaf or not) is a box: the bounds on the path
    to it. A leaf alone often holds only part of a region that the tree
    splits further, so all nodes are candidates.
    """
    from sklearn.tree import DecisionTreeClassifier  # imported when needed: it costs every CLI command 0.4 s

    y = np.asarray(y, dtype=bool)
    n = len(y)
    data = x.to_numpy()
    tree = DecisionTreeClassifier(
        max_depth=settings.max_dims, min_samples_leaf=max(2, math.ceil(0.05 * n)), random_state=0
    ).fit(data, y)
    t = tree.tree_
    members = tree.decision_path(data).toarray().astype(bool)
    best = None

    def walk(node: int, bounds: dict[str, tuple[float | None, float | None]]) -> None:
        nonlocal best
        if bounds:
            inside = members[:, node]
            cases = int(y[inside].sum())
            coverage, density = cases / max(int(y.sum()), 1), cases / max(int(inside.sum()), 1)
            if _acceptable(coverage, density, len(bounds), y, settings):
                key = (density, coverage, -len(bounds))
                if best is None or key > best[0]:
                    best = (key, dict(bounds))
        if t.children_left[node] == -1:
            return
        name = str(x.columns[t.feature[node]])
        cut = float(t.threshold[node])
        lo, hi = bounds.get(name, (None, None))
        walk(int(t.children_left[node]), {**bounds, name: (lo, cut if hi is None else min(hi, cut))})
        walk(int(t.children_right[node]), {**bounds, name: (cut if lo is None else max(lo, cut), hi)})

    walk(0, {})
    if best is None:
        return None
    restrictions = [(name, lo, hi) for name, (lo, hi) in best[1].items()]
    return _box("cart", x, y, restrictions, settings)


def find_box(x: pd.DataFrame, y: np.ndarray, settings: Discovery) -> Box | None:
    """PRIM first; a CART leaf where PRIM finds no acceptable box."""
    if x.shape[1] == 0:
        return None
    return prim_box(x, y, settings) or cart_box(x, y, settings)


def _number(value: float) -> str:
    return f"{value:.3g}"


def describe_box(box: Box) -> str:
    """The box in words: ``markets.china.entry_cost > 2.1 and leverage_max < 0.9``."""
    parts = []
    for name, low, high in box.restrictions:
        if name.startswith(VARIANT_PREFIX):
            variant = name.removeprefix(VARIANT_PREFIX)
            parts.append(f"the variant is {variant}" if low is not None else f"the variant is not {variant}")
        elif low is not None and high is not None:
            parts.append(f"{_number(low)} < `{name}` < {_number(high)}")
        elif low is not None:
            parts.append(f"`{name}` > {_number(low)}")
        else:
            parts.append(f"`{name}` < {_number(high)}")
    return " and ".join(parts)


def _ordinal(k: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(k, f"{k}th")


def events(effects: pd.DataFrame, policies: list[str]) -> list[dict[str, Any]]:
    """For each policy and outcome, the worlds where it loses its usual rank, and where it loses (or gains) its effect.

    The usual rank is first for the policy most often first on the outcome,
    and the median of its places (the better one of two middle places)
    for the others; tied policies take the best of the places they share. The effect event is
    "not significantly positive" for a policy significantly positive in at
    least half of the worlds, otherwise "significantly positive".
    """
    full = complete_worlds(effects, policies).copy()
    full["place"] = full.groupby(["world", "outcome"])["effect"].rank(ascending=False, method="min")
    ranks = rank_table(effects, policies)
    ranks = ranks[ranks.metric == "effect"]
    leaders = {
        o: part.sort_values("p_best", ascending=False, kind="stable")["scenario"].iloc[0]
        for o, part in ranks.groupby("outcome")
    }
    out = []
    for (outcome, scenario), part in full.groupby(["outcome", "scenario"], sort=False):
        part = part.sort_values("world")
        places = part["place"].to_numpy()
        usual = 1 if leaders.get(outcome) == scenario else int(np.percentile(places, 50, method="lower"))
        worse = places > usual
        text = "loses first place" if usual == 1 else f"falls below {_ordinal(usual)} place"
        base = {"scenario": scenario, "outcome": outcome, "worlds": part["world"].to_numpy()}
        out.append({**base, "event": "loses_rank", "usual_rank": usual, "words": f"{text} on {outcome}", "y": worse})
        sig = part["significant_positive"].to_numpy(dtype=bool)
        if sig.mean() >= 0.5:
            out.append(
                {**base, "event": "loses_effect", "words": f"loses its significant effect on {outcome}", "y": ~sig}
            )
        else:
            words = f"has a significant positive effect on {outcome}"
            out.append({**base, "event": "gains_effect", "words": words, "y": sig})
    return out


def failure_boxes(
    effects: pd.DataFrame, worlds: pd.DataFrame, experiment: Robustness
) -> tuple[pd.DataFrame, dict[tuple[str, str, str], Box]]:
    """``failure_boxes.csv`` (one row per policy, outcome and event) and the boxes found, by (scenario, outcome, event).

    With fewer complete worlds than ``discovery.min_worlds`` every row says
    so (``status``) and no box is sought.
    """
    settings = experiment.discovery
    rows, boxes = [], {}
    x_all = discovery_inputs(worlds).set_index(worlds["world"].to_numpy())
    for ev in events(effects, experiment.scenarios):
        y = ev.pop("y")
        ids = ev.pop("worlds")
        n, cases = len(ids), int(y.sum())
        row = {
            "scenario": ev["scenario"],
            "outcome": ev["outcome"],
            "event": ev["event"],
            "description": ev["words"],
            "usual_rank": ev.get("usual_rank", np.nan),
            "worlds": n,
            "cases": cases,
            "base_rate": cases / n if n else np.nan,
            "status": "",
            "method": "none",
            "coverage": np.nan,
            "density": np.nan,
            "mass": np.nan,
            "restricted": 0,
            "max_qp": np.nan,
            "p_value": np.nan,
            "box": "",
            "limits": "",
            "words": "",
        }
        if n < settings.min_worlds:
            row["status"] = (
                f"too few worlds for scenario discovery ({n} < discovery.min_worlds = {settings.min_worlds})"
            )
        elif cases < MIN_CASES:
            row["status"] = f"{ev['words']} in {cases} of {n} worlds: too rare for a box"
        elif cases == n:
            row["status"] = f"{ev['words']} in every world"
        else:
            box = find_box(x_all.loc[ids].reset_index(drop=True), y, settings)
            if box is None:
                row["status"] = NO_BOX
            else:
                boxes[(ev["scenario"], ev["outcome"], ev["event"])] = box
                text = describe_box(box)
                limits = [{"parameter": p, "low": lo, "high": hi} for p, lo, hi in box.restrictions]
                row.update(
                    status="box",
                    method=box.method,
                    coverage=box.coverage,
                    density=box.density,
                    mass=box.mass,
                    restricted=len(box.restrictions),
                    max_qp=box.max_qp,
                    p_value=box.p_value,
                    box=text,
                    limits=json.dumps(limits),
                    words=(
                        f"{ev['scenario']} {ev['words']} when {text}: coverage {box.coverage:.2f}, "
                        f"density {box.density:.2f} ({box.method.upper()}; {cases} of {n} worlds; "
                        f"p = {box.p_value:.2g})"
                    ),
                )
        rows.append(row)
    table = pd.DataFrame(rows)
    searched = int(table["status"].isin(["box", NO_BOX]).sum()) if not table.empty else 0
    if not table.empty:
        table.insert(table.columns.get_loc("p_value") + 1, "searched", searched)
        table.insert(table.columns.get_loc("searched") + 1, "p_adjusted", (table["p_value"] * searched).clip(upper=1.0))
    return table, boxes


# --------------------------------------------------------------------------
# Figures


def figure_ranks(dist: pd.DataFrame, ranks: pd.DataFrame, path: Path, metric: str = "effect") -> Path:
    """Per outcome, stacked bars of the probability that each policy holds each rank (darkest: first)."""
    dist = dist[dist.metric == metric]
    outcomes = list(dict.fromkeys(dist["outcome"]))
    m = int(dist["rank"].max())
    colors = sns.color_palette("YlGnBu_r", m + 1)[:m]  # first: darkest; the palette's palest end left out
    fig, axes = plt.subplots(
        1,
        len(outcomes),
        figsize=(3.0 * len(outcomes) + 2.5, 0.42 * dist["scenario"].nunique() + 1.8),
        squeeze=False,
        sharey=True,
    )
    order = _policy_order(ranks, outcomes[0], metric)
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        wide = dist[dist.outcome == outcome].pivot(index="scenario", columns="rank", values="probability").loc[order]
        left = np.zeros(len(wide))
        y = np.arange(len(wide))[::-1]
        for k in wide.columns:
            ax.barh(y, wide[k], left=left, color=colors[k - 1], label=f"{k}", height=0.75)
            left += wide[k].to_numpy()
        for yi, p in zip(y, wide[1], strict=True):
            if p >= 0.12:
                ax.text(p / 2, yi, f"{p:.0%}", ha="center", va="center", color="white", fontsize=8)
        ax.set_yticks(y, wide.index)
        ax.set_xlim(0, 1)
        ax.set_title(outcome)
        ax.set_xlabel("share of worlds")
    axes[0, -1].legend(title="rank", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    return save_figure(fig, path)


def _policy_order(ranks: pd.DataFrame, outcome: str, metric: str = "effect") -> list[str]:
    """Policies by their mean rank on ``outcome`` (the figures' order, the same in every panel)."""
    return list(ranks[(ranks.outcome == outcome) & (ranks.metric == metric)].sort_values("mean_rank")["scenario"])


def figure_world_effects(effects: pd.DataFrame, ranks: pd.DataFrame, path: Path) -> Path:
    """Per outcome, each policy's effect (% of the world's baseline) across worlds: box and one dot per world."""
    outcomes = list(dict.fromkeys(effects["outcome"]))
    fig, axes = plt.subplots(
        1,
        len(outcomes),
        figsize=(3.0 * len(outcomes) + 2.5, 0.42 * effects["scenario"].nunique() + 1.8),
        squeeze=False,
        sharey=True,
    )
    order = _policy_order(ranks, outcomes[0])
    order += [s for s in dict.fromkeys(effects["scenario"]) if s not in order]
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        part = effects[effects.outcome == outcome].assign(
            significance=lambda d: np.where(d["significant_positive"], "significantly positive", "not")
        )
        with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib 3.11 a deprecated argument
            warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)
            sns.boxplot(data=part, x="relative_effect_pct", y="scenario", order=order, color="0.9", fliersize=0, ax=ax)
        sns.stripplot(
            data=part,
            x="relative_effect_pct",
            y="scenario",
            order=order,
            hue="significance",
            hue_order=["significantly positive", "not"],
            palette={"significantly positive": "tab:blue", "not": "tab:gray"},
            size=3,
            alpha=0.7,
            jitter=0.25,
            ax=ax,
            legend=ax is axes[0, -1],
        )
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(outcome)
        ax.set_xlabel("% of the world's baseline")
        ax.set_ylabel("")
    legend = axes[0, -1].get_legend()
    if legend is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.01, 1), title=None, frameon=False)
    return save_figure(fig, path)


def figure_prim(box: Box, title: str, path: Path) -> Path:
    """PRIM's trade-off (coverage against density along the peeling trajectory, the chosen box circled) and the box."""
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(12, 0.5 * len(box.restrictions) + 3.2), gridspec_kw={"width_ratios": [1, 1.1], "wspace": 0.9}
    )
    t = box.trajectory
    points = left.scatter(t["coverage"], t["density"], c=t["res dim"], cmap="viridis_r", s=18)
    left.scatter([box.coverage], [box.density], s=160, facecolors="none", edgecolors="tab:red", label="the box")
    left.legend(loc="lower left", frameon=False)
    left.set_xlabel("coverage")
    left.set_ylabel("density")
    left.set_xlim(0, 1.05)
    left.set_ylim(0, 1.05)
    fig.colorbar(points, ax=left, label="restricted parameters")
    left.set_title("PRIM peeling trajectory")
    labels = []
    for i, (name, low, high) in enumerate(box.restrictions):
        lo, hi = box.limits[name]
        span = hi - lo if hi > lo else 1.0
        a = 0.0 if low is None else (low - lo) / span
        b = 1.0 if high is None else (high - lo) / span
        right.barh(i, 1.0, color="0.9", height=0.5)
        right.barh(i, b - a, left=a, color="tab:blue", height=0.5)
        if name.startswith(VARIANT_PREFIX):
            labels.append(f"variant {name.removeprefix(VARIANT_PREFIX)}")
            text = "yes" if low is not None else "no"
        else:
            labels.append(name)
            text = f"{_number(lo if low is None else low)} to {_number(hi if high is None else high)}"
            text += f"  (worlds: {_number(lo)} to {_number(hi)})"
        right.text(1.02, i, text, va="center", fontsize=8)
    right.set_yticks(range(len(box.restrictions)), labels)
    right.set_xlim(0, 1)
    right.set_xticks([0, 1], ["low", "high"])
    right.invert_yaxis()
    right.set_title(f"the box: coverage {box.coverage:.2f}, density {box.density:.2f}")
    fig.suptitle(title)
    return save_figure(fig, path)


# --------------------------------------------------------------------------
# The report's part


def robustness_blocks(experiment: Robustness, summary: pd.DataFrame, report: Path, figures: Path) -> list[tuple]:
    """Write world_effects.parquet, worlds.csv, ranks.csv, rank_distribution.csv, regret.csv and
    failure_boxes.csv into ``report`` and return the report's blocks (see sim/experiments/report.py)."""
    worlds = world_table(experiment)
    atomic_write(report / "worlds.csv", lambda p: worlds.to_csv(p, index=False))
    effects = world_effects(summary, experiment, worlds)
    if effects.empty:
        return [("p", "No world has both its baseline and a policy finished yet.")]
    atomic_write(report / "world_effects.parquet", lambda p: effects.to_parquet(p, index=False))
    policies = experiment.scenarios
    if complete_worlds(effects, policies).empty:
        return [("p", "No world has all its policies finished yet: ranks need every policy of a world.")]
    dist = rank_distribution(effects, policies)
    ranks = rank_table(effects, policies)
    regret = regret_table(effects, policies)
    boxes_table, boxes = failure_boxes(effects, worlds, experiment)
    atomic_write(report / "ranks.csv", lambda p: ranks.to_csv(p, index=False))
    atomic_write(report / "rank_distribution.csv", lambda p: dist.to_csv(p, index=False))
    atomic_write(report / "regret.csv", lambda p: regret.to_csv(p, index=False))
    atomic_write(report / "failure_boxes.csv", lambda p: boxes_table.to_csv(p, index=False))

    done = int(effects["world"].nunique())
    complete = int(complete_worlds(effects, policies)["world"].nunique())
    variants = worlds["variant"].value_counts()
    sources = []
    if experiment.calibration_points:
        sources.append(
            f"{len(experiment.calibration_points)} points of the calibration {experiment.worlds_from} within "
            f"{100 * experiment.loss_tolerance:g} % of its best loss (free parameters: "
            f"{', '.join(experiment.calibration_points[0])})"
        )
    if experiment.uncertainties:
        bounds = ", ".join(f"{k} {_number(r.low)} to {_number(r.high)}" for k, r in experiment.uncertainties.items())
        sources.append(f"a {experiment.design.upper()} sample of {bounds}")
    described = {name: f"{name}, {v.description}" for name, v in experiment.variants.items() if v.description}
    sources.append("variants " + "; ".join(f"{described.get(k, k)} ({v} worlds)" for k, v in variants.items()))
    seeds = (
        f"world w, replication r uses seed {experiment.seed} + {experiment.replications} w + r"
        if experiment.world_seeds == "distinct"
        else f"replication r uses seed {experiment.seed} + r in every world"
    )
    level = int(round(100 * experiment.confidence))
    first = next(iter(experiment.outcomes))
    blocks: list[tuple] = [
        ("h2", "How to read this report"),
        (
            "p",
            f"{len(worlds)} worlds ({done} with results, {complete} complete), from {'; '.join(sources)}. In each "
            f"world the baseline {experiment.baseline!r} and the {len(policies)} policies run with the world's "
            f"parameters on top of their own, {experiment.replications} replications each; every scenario of a world "
            f"uses the same seeds ({seeds}), so that within a world a policy's effect is the mean paired difference "
            f"against the baseline, with a {level} % t interval Bonferroni-adjusted over the policies, as in a "
            "compare experiment (world_effects.parquet).",
        ),
        (
            "p",
            "In each world the policies are ranked by their effect on each outcome (1 = largest; tied policies "
            "share their places). p_best is the share of worlds where a policy ranks first, mean_rank its mean rank "
            "(ranks.csv; metric per_meur ranks the effect per EUR million of policy cost instead, a policy that costs "
            "nothing ranking last on it). Regret is a policy's shortfall from the best policy of the world, in the "
            "outcome's units; mean_regret and p90_regret summarise it over worlds, p_significant_positive is the "
            "share of worlds where the policy's interval lies above zero (regret.csv). p_best says how often a "
            "policy is the right choice, regret how much is lost when it is not.",
        ),
        ("h2", "Rank probabilities"),
        (
            "figure",
            (
                figure_ranks(dist, ranks, figures / "ranks.png"),
                "Share of worlds in which each policy holds each rank (darkest: first), by outcome",
            ),
        ),
    ]
    for outcome in experiment.outcomes:
        part = ranks[(ranks.outcome == outcome) & (ranks.metric == "effect")]
        reg = regret[(regret.outcome == outcome) & (regret.metric == "effect")].set_index("scenario")
        if part.empty:
            continue
        table = part[["scenario", "p_best", "mean_rank", "p_top2"]].join(
            reg[["mean_regret", "p90_regret", "mean_regret_pct", "p_significant_positive", "mean_effect"]],
            on="scenario",
        )
        blocks += [("h3", outcome), ("table", table)]
    cost = ranks[(ranks.metric == "per_meur") & (ranks.outcome == first)]
    if not cost.empty:
        blocks += [
            ("h3", f"{first}, per EUR million"),
            ("table", cost[["scenario", "p_best", "mean_rank", "p_top2"]]),
        ]
    blocks += [
        ("h2", "Effects across worlds"),
        (
            "figure",
            (
                figure_world_effects(effects, ranks, figures / "world_effects.png"),
                "Each policy's effect in % of the world's baseline, one dot per world (blue: significantly positive)",
            ),
        ),
        ("h2", "When a policy fails: scenario discovery"),
    ]
    found = boxes_table[boxes_table.status == "box"]
    if complete < experiment.discovery.min_worlds:
        blocks.append(
            (
                "p",
                f"Too few worlds for scenario discovery: {complete} complete worlds, fewer than "
                f"discovery.min_worlds = {experiment.discovery.min_worlds}. No box is shown (failure_boxes.csv says "
                "so too); run more worlds to learn when each policy fails.",
            )
        )
        return blocks
    blocks.append(
        (
            "p",
            "For each policy and outcome, the worlds where it loses its usual rank (first for the policy most "
            "often first, the median of its places for the others), and "
            "where it loses its significant effect (or, for a policy significant in fewer than half of the worlds, "
            "where it has one), are described by a box of world parameters: PRIM's densest box with coverage >= "
            f"{experiment.discovery.min_coverage:g}, density >= {experiment.discovery.min_density:g} and at most "
            f"{experiment.discovery.max_dims} restricted parameters, or a CART node where PRIM finds none. Coverage "
            "is the share of those worlds inside the box, density the share of the box's worlds that are among "
            "them (failure_boxes.csv, with the events that have no box and why).",
        )
    )
    strong = found[found["p_adjusted"] <= P_MAX].sort_values("p_value", kind="stable")
    weak = found[found["p_adjusted"] > P_MAX].sort_values("p_value", kind="stable")
    searched = int(boxes_table["searched"].iloc[0]) if not boxes_table.empty else 0
    blocks.append(
        (
            "p",
            f"{searched} events were searched. A box is kept only if its density has a probability of at most "
            f"{P_MAX:g} by chance (one-sided binomial test against the event's share of worlds, p); it holds after "
            f"the Bonferroni correction for searching {searched} events if {searched} p <= {P_MAX:g} (p_adjusted). "
            "Boxes are chosen for their density, so even these p values flatter them: read the boxes as "
            "hypotheses to test with a sweep, not as findings.",
        )
    )
    if strong.empty:
        blocks.append(("p", "No box holds after the correction for the number of events searched."))
    else:
        blocks += [("h3", "Boxes that hold after the correction"), ("list", list(strong["words"]))]
    if not weak.empty:
        shown = list(weak["words"].head(HINTS_SHOWN))
        if len(weak) > HINTS_SHOWN:
            shown.append(f"... and {len(weak) - HINTS_SHOWN} more in failure_boxes.csv")
        blocks += [("h3", "Boxes significant only before the correction (hints)"), ("list", shown)]
    top = ranks[(ranks.metric == "effect") & (ranks.outcome == first)]
    top = top.sort_values("p_best", ascending=False, kind="stable")
    if not top.empty:
        leader = str(top.iloc[0]["scenario"])
        chosen = next(
            (
                (event, boxes[(leader, first, event)])
                for event in ("loses_rank", "loses_effect", "gains_effect")
                if (leader, first, event) in boxes and boxes[(leader, first, event)].method == "prim"
            ),
            None,
        )
        if chosen is None:
            blocks.append(("p", f"PRIM finds no box for {leader}, the policy most often first on {first}."))
        else:
            event, box = chosen
            row = boxes_table.set_index(["scenario", "outcome", "event"]).loc[(leader, first, event)]
            words, title = row["words"], f"{leader} {row['description']}"
            blocks.append(
                (
                    "figure",
                    (
                        figure_prim(box, title, figures / "prim_top.png"),
                        f"PRIM for the policy most often first on {first}: {words}",
                    ),
                )
            )
    return blocks
