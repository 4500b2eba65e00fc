"""Chart builders: pure functions from the small aggregated frames of `tracker.queries` to plotly figures.

Every figure has a title, axis labels and hover text, and an empty frame gives an annotated empty
figure rather than blank axes. No WebGL traces and no tile maps: the dashboard must work offline,
so geo charts use plotly's own topojson (served by the app, see static/topojson/README.md).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import plotly.graph_objects as go

from tracker.dates import format_partial_date
from tracker.vocab import STAGE_NAMES

# One colour per stage, in stage order: the main path from light to dark blue, then the off-path stages.
STAGE_COLOURS: dict[str, str] = {
    "announced": "#9ecae1", "negotiating": "#6baed6", "agreed": "#4292c6", "approved": "#2171b5",
    "contracted": "#08519c", "delivering": "#08306b", "completed": "#41ab5d", "stalled": "#fdae6b",
    "cancelled": "#969696",
}  # fmt: skip
_DAY_MS = 86_400_000
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


def stage_country_heatmap(matrix: pd.DataFrame) -> go.Figure:
    """Deals per country (rows) and stage (columns), from `queries.overview` (`matrix`)."""
    title = "Deals by country and stage"
    if matrix.empty:
        return empty_figure(title, "No buyer or seller countries in the matching deals")
    countries = list(dict.fromkeys(matrix["country"]))
    grid = matrix.pivot_table(
        index="country", columns="stage", values="deals", aggfunc="sum", fill_value=0
    ).reindex(index=countries, columns=list(STAGE_NAMES), fill_value=0)
    counts = grid.astype(int).to_numpy().tolist()
    top = max(1, max(max(line) for line in counts))
    log = _skewed([count for line in counts for count in line])
    # Colour by log10(count + 1) when counts are skewed, so 12 and 27,000 are both told apart from 0.
    z = [[math.log10(count + 1) for count in line] for line in counts] if log else counts
    colorbar = (
        {"title": {"text": "Deals"}, "tickvals": _log_ticks(top)[0], "ticktext": _log_ticks(top)[1]}
        if log
        else {"title": {"text": "Deals"}, "dtick": max(1, top // 5), "tickformat": ","}
    )
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=list(grid.columns),
            y=list(grid.index),
            colorscale="Blues",
            zmin=0,
            zmax=math.log10(top + 1) if log else top,
            text=[[_cell_text(count) for count in line] for line in counts],
            texttemplate="%{text}",
            textfont=_CELL_FONT,
            customdata=counts,
            colorbar=colorbar,
            hovertemplate="%{y}, %{x}: %{customdata:,} deals<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    figure.update_xaxes(title_text="Current stage")
    figure.update_yaxes(title_text="Country", autorange="reversed")
    # Rows tall enough for their numbers at _CELL_FONT.
    return _layout(figure, title, height=max(300, 120 + 32 * len(countries)))


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


def flow_sankey(flows: pd.DataFrame) -> go.Figure:
    """Buyer -> seller flows from `queries.overview` (`flows`): buyers on the left, sellers on the right."""
    title = "Buyer → seller: deals per pair of countries"
    if flows.empty:
        return empty_figure(title, "No deal with both a buyer and a seller country")
    buyers = list(dict.fromkeys(flows["buyer"]))
    sellers = list(dict.fromkeys(flows["seller"]))
    labels = [f"{name} (buyer)" for name in buyers] + [f"{name} (seller)" for name in sellers]
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "pad": 18,
                "thickness": 18,
                "color": ["#2171b5"] * len(buyers) + ["#fd8d3c"] * len(sellers),
                "hovertemplate": "%{label}: %{value:,} deals<extra></extra>",
            },
            link={
                "source": [buyers.index(b) for b in flows["buyer"]],
                "target": [len(buyers) + sellers.index(s) for s in flows["seller"]],
                "value": flows["deals"].tolist(),
                "color": "rgba(33, 113, 181, 0.25)",
                "customdata": [f"{b} buys from {s}" for b, s in zip(flows["buyer"], flows["seller"])],
                "hovertemplate": "%{customdata}: %{value:,} deals<extra></extra>",
            },
        )
    )
    return _layout(figure, title, height=max(320, 60 + 28 * max(len(buyers), len(sellers))))


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
    frame["label"] = [
        f"{format_partial_date(start, 'day')} – {'today' if ongoing else format_partial_date(end, 'day')}"
        for start, end, ongoing in zip(frame["start"], frame["end"], frame["ongoing"])
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
                hovertemplate="%{y}: %{customdata[1]}<br>%{customdata[0]} days (%{customdata[2]})"
                "<extra></extra>",
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
