"""The firm inspector: choose a firm (by id, the largest, an exporter) and read its record.

Its state now (``Firm.describe()``), the markets it serves and since when, its partners, suppliers and clients,
the support it has received, its history from the yearly firm panel, and the same firm in the twin world.
"""

from __future__ import annotations

from typing import Any

import solara
from mesa.visualization.utils import update_counter

from sim.view.figures import pretty
from sim.view.model import StudentModel
from sim.view.readings import an_exporter, firm_record, history, largest_firm

SHOWN_IDS = 12  # ids listed before "and N more"


def _ids(ids: list[int]) -> str:
    if not ids:
        return "none"
    head = ", ".join(str(i) for i in ids[:SHOWN_IDS])
    return head + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "") + f" ({len(ids)})"


def now_markdown(record: dict[str, Any]) -> str:
    """The firm's state, markets, links and support as Markdown."""
    now = record["now"]
    parent = f"spin-off of firm {now['parent']}" if now["parent"] is not None else "not a spin-off"
    lines = [
        f"**Firm {record['firm_id']}**: {pretty(now['niche'])}, {pretty(now['province'])}, "
        f"{now['employees']:,.1f} employees, {now['age'] / 4:.1f} years old, {parent}; "
        + ("an exporter." if now["is_exporter"] else "sells in Italy only."),
        "",
        "| | |",
        "|---|---|",
        f"| sales this quarter | EUR {now['revenue']:,.0f} thousand |",
        f"| profit this quarter | EUR {now['profit']:,.0f} thousand |",
        f"| cash / debt / net worth | EUR {now['cash']:,.0f} / {now['debt']:,.0f} / {now['net_worth']:,.0f} thousand |",
        f"| productivity, quality, price | {now['productivity']:.2f} units/worker, {now['quality']:.2f}, "
        f"EUR {now['price']:.2f} thousand/unit |",
        f"| know-how | {', '.join(f'{d} {v:.2f}' for d, v in now['know_how'].items())} |",
        f"| markets | {'; '.join(f'{pretty(m)} {since}' for m, since in record['markets'].items())} |",
        f"| technical partners | {_ids(now['partners'])} |",
        f"| suppliers | {_ids(now['suppliers'])} |",
        f"| clients | {_ids(now['clients'])} |",
        "| support received | "
        + (
            "; ".join(f"{pretty(k)} EUR {v:,.1f} thousand" for k, v in record["support"].items())
            if record["support"]
            else "none"
        )
        + " |",
    ]
    twin = record["twin"]
    if twin is not None:
        lines.append(
            "| the same firm in the twin | "
            + (
                f"{twin['employees']:,.1f} employees, markets: {', '.join(pretty(m) for m in twin['markets'])}; "
                f"support EUR {twin['support']:,.1f} thousand |"
                if twin["alive"]
                else "has exited |"
            )
        )
    return "\n".join(lines)


def history_markdown(record: dict[str, Any]) -> str:
    """The firm's yearly panel rows as a Markdown table."""
    past = record["history"]
    if past.empty:
        return "No yearly record yet (the panel is written every year)."
    lines = [
        "| when | employees | sales | exports | markets | partners | suppliers | clients | support so far |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for row in past.itertuples(index=False):
        lines.append(
            f"| {row.when}{' (exit)' if row.exited else ''} | {row.employees:,.1f} | {row.sales:,.0f} | "
            f"{row.export_sales:,.0f} | {', '.join(pretty(m) for m in row.markets)} | {row.n_partners} | "
            f"{row.n_suppliers} | {row.n_clients} | {row.policy_support:,.1f} |"
        )
    return "History from the yearly panel (EUR thousand a quarter):\n\n" + "\n".join(lines)


@solara.component
def FirmInspector(model: StudentModel) -> solara.Element:
    """Choose a firm and read its record; the choice is kept while the world runs."""
    update_counter.get()
    text, set_text = solara.use_state("")
    picks, set_picks = solara.use_state(0)

    def pick_exporter() -> None:
        firm = an_exporter(model, picks)
        set_picks(picks + 1)
        set_text("" if firm is None else str(firm))

    firm_id = int(text) if text.strip().isdigit() else None
    # the panel grows once a year: its rows for the firm are read again only then
    past = solara.use_memo(
        lambda: None if firm_id is None else history(model, firm_id), [model, len(model.observer.panel), firm_id]
    )
    record = solara.use_memo(
        lambda: None if firm_id is None else firm_record(model, firm_id, past), [model, model.steps, firm_id]
    )
    with solara.Card("Firm inspector", margin=0) as card:
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("Firm id", value=text, on_value=set_text, style={"max-width": "110px"})
            solara.Button("Largest firm", on_click=lambda: set_text(str(largest_firm(model))), text=True)
            solara.Button("An exporter", on_click=pick_exporter, text=True)
        if not text.strip():
            solara.Text("Type a firm id, or press a button.", classes=["view-note"])
        elif firm_id is None:
            solara.Warning(f"A firm id is a whole number (got {text!r}).")
        elif record is None:
            solara.Warning(f"No firm {firm_id} in this world.")
        elif not record["alive"]:
            solara.Markdown(f"**Firm {firm_id}** exited in {record['exited']}.\n\n" + history_markdown(record))
        else:
            solara.Markdown(now_markdown(record) + "\n\n" + history_markdown(record))
    return card
