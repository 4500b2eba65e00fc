"""Chart builders: pure functions from the small aggregated frames of `tracker.queries` to plotly figures.

Every figure has a title, axis labels and hover text, and an empty frame gives an annotated empty
figure rather than blank axes. No WebGL traces and no tile maps: the dashboard must work offline,
so geo charts use plotly's own topojson (served by the app, see static/topojson/README.md).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from tracker.dates import format_partial_date, period_end
from tracker.display import counted
from tracker.vocab import STAGE_NAMES

# One colour per stage, in stage order: the main path from light to dark blue, then the off-path stages.
STAGE_COLOURS: dict[str, str] = {
    "announced": "#9ecae1", "negotiating": "#6baed6", "agreed": "#4292c6", "approved": "#2171b5",
    "contracted": "#08519c", "delivering": "#08306b", "completed": "#41ab5d", "stalled": "#fdae6b",
    "cancelled": "#969696",
}  # fmt: skip
_DAY_MS = 86_400_000
# The heatmap's rows and the Sankey's flows: the countries (pairs) with most deals, then one row (flow)
# carrying the rest, so a register of 190 countries stays as readable as a ledger of five.
HEATMAP_COUNTRIES = 20
SANKEY_PAIRS = 15
# Country names cut to this many characters on axes and nodes (the hover gives the whole name): the
# longest state name, "Saint Vincent and the Grenadines", took a third of a half-width chart's width.
_LABEL_CHARACTERS = 22
_FONT = {"size": 14}
_CELL_FONT = {"size": 13}  # numbers inside heatmap cells: never shrunk to fit (plotly would go to 6 px)
# Counts spread wider than this (27,000 completed transfers beside 12 live deals) are drawn on a log
# scale, or every bar but one is flat and every country but one is white.
_SKEW = 50
# Data go in as plain lists (not numpy arrays, which plotly encodes as base64) so specs stay readable.


def _layout(figure: go.Figure, title: str, *, height: int | None = None) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        font=_FONT,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        hoverlabel={"font_size": 14},
    )
    if height:
        figure.update_layout(height=height)
    return figure


def _skewed(counts: list[int]) -> bool:
    """Whether a linear scale would flatten all but the largest counts."""
    positive = [count for count in counts if count > 0]
    return bool(positive) and max(positive) > _SKEW * min(positive)


def _log_ticks(top: int) -> tuple[list[float], list[str]]:
    """Colour-bar ticks for log10(count) colours, labelled with counts: 1, 10, 100, 1,000 ..."""
    powers = range(int(math.log10(max(1, top))) + 1)
    return [float(power) for power in powers], [f"{10**power:,}" for power in powers]


def _cell_text(count: int) -> str:
    """A heatmap cell's number in at most four characters, so it fits a cell of a half-width chart:
    '708', '9.9k', '27k' (rounded down; the hover gives the exact count)."""
    if count == 0:
        return ""
    if count < 1000:
        return str(count)
    return f"{count // 100 / 10:.1f}k" if count < 10_000 else f"{count // 1000}k"


def _short_labels(names: list[str]) -> list[str]:
    """`names` cut to _LABEL_CHARACTERS with an ellipsis; a cut that would make two labels equal keeps
    the whole names (heatmap rows are keyed by their label)."""
    short = [
        name if len(name) <= _LABEL_CHARACTERS else name[: _LABEL_CHARACTERS - 1].rstrip() + "…"
        for name in names
    ]
    if len(set(short)) < len(set(names)):
        seen = Counter(short)
        short = [cut if seen[cut] == 1 else name for cut, name in zip(short, names)]
    return short


def _others_label(count: int, noun: str, plural: str) -> str:
    return f"Others ({counted(count, noun, plural)})"


def empty_figure(title: str, message: str) -> go.Figure:
    """A titled figure that says why there is nothing to plot."""
    figure = go.Figure()
    figure.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 16}
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return _layout(figure, title, height=300)


def stage_bar(stage_counts: pd.DataFrame) -> go.Figure:
    """Deals per current stage (from `queries.deals_by_stage`): the pipeline as bars in stage order."""
    title = "Deals by current stage"
    if stage_counts.empty or int(stage_counts["deals"].sum()) == 0:
        return empty_figure(title, "No deals match the filters")
    frame = stage_counts.set_index("stage").reindex(list(STAGE_NAMES), fill_value=0).reset_index()
    figure = go.Figure(
        go.Bar(
            x=frame["stage"].tolist(),
            y=frame["deals"].tolist(),
            marker_color=[STAGE_COLOURS[s] for s in frame["stage"]],
            text=[f"{count:,}" for count in frame["deals"]],
            textposition="outside",
            cliponaxis=False,
            name="Deals",
            hovertemplate="Stage %{x}: %{y:,} deals<extra></extra>",
        )
    )
    figure.update_xaxes(title_text="Current stage", categoryorder="array", categoryarray=list(STAGE_NAMES))
    counts = [int(count) for count in frame["deals"]]
    top = max(counts)
    if _skewed(counts):
        # Room above the tallest bar for its label, in decades.
        figure.update_yaxes(
            title_text="Deals (log scale)", type="log", range=[-0.1, math.log10(top) + 0.4], tickformat=","
        )
    else:
        # Room above the tallest bar for its label; whole-number ticks.
        figure.update_yaxes(
            title_text="Deals", range=[0, top * 1.15 + 0.5], dtick=max(1, top // 5), tickformat=","
        )
    return _layout(figure, title, height=380)


def stage_country_heatmap(matrix: pd.DataFrame, *, top: int = HEATMAP_COUNTRIES) -> go.Figure:
    """Deals per country (rows) and stage (columns), from `queries.overview` (`matrix`): the `top`
    countries with most deals, then one "Others" row adding up the rest (a deal with two of them
    counts for each, as it does in their own rows), so the cells add up to the frame's counts."""
    title = "Deals by country and stage"
    if matrix.empty:
        return empty_figure(title, "No buyer or seller countries in the matching deals")
    grid = matrix.pivot_table(
        index="country", columns="stage", values="deals", aggfunc="sum", fill_value=0
    ).reindex(columns=list(STAGE_NAMES), fill_value=0)
    totals = grid.sum(axis=1)
    ranked = sorted(grid.index, key=lambda country: (-int(totals[country]), country))
    names = ranked[:top]
    counts = [[int(count) for count in grid.loc[country]] for country in names]
    if len(ranked) > top:
        rest = grid.loc[ranked[top:]].sum(axis=0)
        names.append(_others_label(len(ranked) - top, "country", "countries"))
        counts.append([int(count) for count in rest])
    top_count = max(1, max(max(line) for line in counts))
    log = _skewed([count for line in counts for count in line])
    # Colour by log10(count + 1) when counts are skewed, so 12 and 27,000 are both told apart from 0.
    z = [[math.log10(count + 1) for count in line] for line in counts] if log else counts
    colorbar = (
        {
            "title": {"text": "Deals"},
            "tickvals": _log_ticks(top_count)[0],
            "ticktext": _log_ticks(top_count)[1],
        }
        if log
        else {"title": {"text": "Deals"}, "dtick": max(1, top_count // 5), "tickformat": ","}
    )
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=list(STAGE_NAMES),
            y=_short_labels(names),
            colorscale="Blues",
            zmin=0,
            zmax=math.log10(top_count + 1) if log else top_count,
            text=[[_cell_text(count) for count in line] for line in counts],
            texttemplate="%{text}",
            textfont=_CELL_FONT,
            customdata=counts,
            # The whole country name (the axis may show it cut).
            hovertext=[[name] * len(STAGE_NAMES) for name in names],
            colorbar=colorbar,
            hovertemplate="%{hovertext}, %{x}: %{customdata:,} deals<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    figure.update_xaxes(title_text="Current stage")
    figure.update_yaxes(title_text="Country", autorange="reversed")
    # Rows tall enough for their numbers at _CELL_FONT.
    return _layout(figure, title, height=max(300, 120 + 32 * len(names)))


def country_map(counts: pd.DataFrame) -> go.Figure:
    """A world choropleth of deals per country as buyer plus as seller, from `queries.overview`
    (`country_counts`)."""
    title = "Buyers and sellers: deals per country"
    if counts.empty:
        return empty_figure(title, "No buyer or seller countries in the matching deals")
    deals = [int(count) for count in counts["deals"]]
    top = max(1, max(deals))
    log = _skewed(deals)
    figure = go.Figure(
        go.Choropleth(
            locations=counts["country_code"].tolist(),
            # Colour by log10 when counts are skewed: otherwise every country but the largest is white.
            z=[math.log10(count) if count else 0.0 for count in deals] if log else deals,
            locationmode="ISO-3",
            text=counts["country"].tolist(),
            customdata=[
                [total, int(buyer), int(seller)]
                for total, buyer, seller in zip(deals, counts["as_buyer"], counts["as_seller"])
            ],
            colorscale="Blues",
            zmin=0,
            zmax=math.log10(top) if log else top,
            marker_line_color="#ffffff",
            marker_line_width=0.5,
            # A horizontal colour bar below the map leaves the map the full width (a vertical one made
            # plotly fit the map to the wider area and crop it).
            colorbar={
                "title": {"text": "Deals", "side": "top"},
                "orientation": "h",
                "y": -0.02,
                "yanchor": "top",
                "thickness": 12,
                "len": 0.5,
                **(
                    {"tickvals": _log_ticks(top)[0], "ticktext": _log_ticks(top)[1]}
                    if log
                    else {"dtick": max(1, top // 5), "tickformat": ","}
                ),
            },
            hovertemplate="%{text}: %{customdata[0]:,} deals<br>as buyer: %{customdata[1]:,}<br>"
            "as seller: %{customdata[2]:,}<extra></extra>",
        )
    )
    # Explicit axis ranges: without them plotly.js fits the world to a larger box than it draws and crops it.
    figure.update_geos(
        showframe=False,
        showcoastlines=True,
        coastlinecolor="#9aa5b1",
        showcountries=True,
        countrycolor="#d0d7de",
        showland=True,
        landcolor="#f3f5f8",
        lonaxis_range=[-180, 180],
        lataxis_range=[-58, 84],
    )
    return _layout(figure, title, height=420)


def flow_sankey(flows: pd.DataFrame, *, top: int = SANKEY_PAIRS) -> go.Figure:
    """Buyer -> seller flows from `queries.overview` (`flows`), buyers on the left, sellers on the right:
    the `top` pairs with most deals, then one flow from "Others" to "Others" carrying the other pairs'
    deals, so the flows add up to the frame's counts. A country's node counts its flows shown."""
    title = "Buyer → seller: deals per pair of countries"
    if flows.empty:
        return empty_figure(title, "No deal with both a buyer and a seller country")
    pairs = [
        (buyer, seller, int(deals))
        for buyer, seller, deals in zip(flows["buyer"], flows["seller"], flows["deals"])
    ]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    shown, rest = pairs[:top], pairs[top:]
    buyers = list(dict.fromkeys(buyer for buyer, _, _ in shown))
    sellers = list(dict.fromkeys(seller for _, seller, _ in shown))
    sources = [buyers.index(buyer) for buyer, _, _ in shown]
    targets = [len(buyers) + sellers.index(seller) for _, seller, _ in shown]
    values = [deals for _, _, deals in shown]
    described = [f"{buyer} buys from {seller}" for buyer, seller, _ in shown]
    labels = [f"{name} (buyer)" for name in _short_labels(buyers)]
    labels += [f"{name} (seller)" for name in _short_labels(sellers)]
    colours = ["#2171b5"] * len(buyers) + ["#fd8d3c"] * len(sellers)
    if rest:
        others = _others_label(len(rest), "pair", "pairs")
        # Both ends of the one flow: the sellers' node goes last, so the buyers' is inserted before them.
        labels.insert(len(buyers), others)
        labels.append(others)
        colours.insert(len(buyers), "#969696")
        colours.append("#969696")
        targets = [target + 1 for target in targets]
        sources.append(len(buyers))
        targets.append(len(labels) - 1)
        values.append(sum(deals for _, _, deals in rest))
        described.append(f"{counted(len(rest), 'other pair')} of countries")
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "pad": 18,
                "thickness": 18,
                "color": colours,
                "hovertemplate": "%{label}: %{value:,} deals in the flows shown<extra></extra>",
            },
            link={
                "source": sources,
                "target": targets,
                "value": values,
                "color": "rgba(33, 113, 181, 0.25)",
                "customdata": described,
                "hovertemplate": "%{customdata}: %{value:,} deals<extra></extra>",
            },
        )
    )
    nodes = max(len(buyers), len(sellers)) + (1 if rest else 0)
    return _layout(figure, title, height=max(320, 60 + 28 * nodes))


def stage_timeline(
    intervals: pd.DataFrame, *, events: pd.DataFrame | None = None, title: str = "Stage timeline"
) -> go.Figure:
    """A Gantt-style chart of one deal's stages from `tracker.stages.stage_intervals` (x dates, y stages).

    A stage entered and left on the same day is drawn one day wide so it stays visible; the hover
    gives the real number of days. `events` (occurred_on, occurred_until, date_precision, summary:
    `queries.deal_events`) are marked on the stage the deal was in that day, so the current stage's bar
    shows where the last news was, not only that it runs until today.
    """
    if intervals.empty:
        return empty_figure(title, "No event of this deal states a stage")
    frame = intervals.copy()
    frame["shown_end"] = [
        max(end, start + dt.timedelta(days=1)) for start, end in zip(frame["start"], frame["end"])
    ]
    # Dates as precisely as they were reported ("2017 – 2018", not "1 Jan 2017 – 1 Jan 2018"): a stage
    # ends where the next one starts, so its end is as precise as that start.
    precisions = _start_precisions(frame)
    precision_at = dict(zip(frame["start"], precisions))
    frame["label"] = [
        f"{format_partial_date(start, precision)} – "
        f"{'today' if ongoing else format_partial_date(end, precision_at.get(end, 'day'))}"
        for start, end, ongoing, precision in zip(frame["start"], frame["end"], frame["ongoing"], precisions)
    ]
    # A deal completed or cancelled has ended (`final`): its last stage is a date, not days to today.
    frame.loc[frame["final"], "label"] = [
        f"since {format_partial_date(start, precision)}"
        for start, precision, final in zip(frame["start"], precisions, frame["final"])
        if final
    ]
    # Drawn over the period of its date only, not to today: a deal completed in 1991 had a bar 35 years
    # long that pressed its three years of deliveries into the chart's first tenth.
    frame["shown_end"] = [
        period_end(start, precision) + dt.timedelta(days=1) if final else shown_end
        for start, precision, final, shown_end in zip(
            frame["start"], precisions, frame["final"], frame["shown_end"]
        )
    ]
    stages_present = [s for s in STAGE_NAMES if s in set(frame["stage"])]
    figure = go.Figure()
    for stage in stages_present:
        part = frame[frame["stage"] == stage]
        figure.add_trace(
            go.Bar(
                name=stage,
                orientation="h",
                y=part["stage"].tolist(),
                base=[start.isoformat() for start in part["start"]],
                x=[(end - start).days * _DAY_MS for start, end in zip(part["start"], part["shown_end"])],
                marker_color=STAGE_COLOURS[stage],
                customdata=[
                    [int(days), label, "ongoing" if ongoing else "ended"]
                    for days, label, ongoing in zip(part["days"], part["label"], part["ongoing"])
                ],
                hovertemplate="%{y} %{customdata[1]}<extra></extra>"
                if part["final"].all()
                else "%{y}: %{customdata[1]}<br>%{customdata[0]} days (%{customdata[2]})<extra></extra>",
            )
        )
    if events is not None and not events.empty:
        figure.add_trace(_event_marks(frame, events))
    figure.update_xaxes(type="date", title_text="Date")
    figure.update_yaxes(
        title_text="Stage", categoryorder="array", categoryarray=stages_present, autorange="reversed"
    )
    figure.update_layout(showlegend=False, barmode="overlay")
    return _layout(figure, title, height=max(220, 110 + 50 * len(stages_present)))


def _start_precisions(intervals: pd.DataFrame) -> list[str]:
    """How precisely each stage's start was reported (day when the frame does not say)."""
    if "start_precision" not in intervals:
        return ["day"] * len(intervals)
    return [p if isinstance(p, str) else "day" for p in intervals["start_precision"]]


def _event_marks(intervals: pd.DataFrame, events: pd.DataFrame) -> go.Scatter:
    """One mark per event, on the stage that held on its date (the first stage before any stage)."""
    ordered = intervals.sort_values("start")
    held = []
    for day in events["occurred_on"]:
        started = ordered[ordered["start"] <= day]
        held.append(started["stage"].iloc[-1] if not started.empty else ordered["stage"].iloc[0])
    return go.Scatter(
        x=[day.isoformat() for day in events["occurred_on"]],
        y=held,
        mode="markers",
        name="Events",
        marker={
            "symbol": "diamond",
            "size": 11,
            "color": "#ffffff",
            "line": {"color": "#1f2937", "width": 2},
        },
        customdata=[
            [format_partial_date(start, precision, until), summary]
            for start, until, precision, summary in zip(
                events["occurred_on"], events["occurred_until"], events["date_precision"], events["summary"]
            )
        ],
        hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>",
    )
