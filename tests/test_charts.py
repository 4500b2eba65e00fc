"""tracker.charts: figure specs (traces, values, titles, axis labels, hover text) from the seed's frames."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import TODAY
from sqlalchemy import Engine

from tracker import charts, queries
from tracker.filters import Filters
from tracker.vocab import STAGE_NAMES

SEED_DEAL = "us-ukraine-drone-deal"
DAY_MS = 86_400_000


def spec(figure: go.Figure) -> dict:
    """The figure as plotly.js receives it."""
    return json.loads(figure.to_json())


def title(figure: go.Figure) -> str:
    return spec(figure)["layout"]["title"]["text"]


def test_stage_bar(seeded: Engine) -> None:
    figure = spec(charts.stage_bar(queries.deals_by_stage(seeded)))
    (trace,) = figure["data"]
    assert trace["type"] == "bar"
    assert trace["x"] == list(STAGE_NAMES)
    assert trace["y"] == [0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert "%{y:,} deals" in trace["hovertemplate"]
    assert trace["text"] == ["0", "1", "0", "0", "0", "0", "0", "0", "0"]
    assert figure["layout"]["title"]["text"] == "Deals by current stage"
    assert figure["layout"]["xaxis"]["title"]["text"] == "Current stage"
    assert figure["layout"]["yaxis"]["title"]["text"] == "Deals"


def test_stage_country_heatmap(seeded: Engine) -> None:
    figure = spec(
        charts.stage_country_heatmap(queries.overview(seeded, filters=Filters(), today=TODAY).matrix)
    )
    (trace,) = figure["data"]
    assert trace["type"] == "heatmap"
    assert trace["y"] == ["Ukraine", "United States"]
    assert trace["x"] == list(STAGE_NAMES)
    assert trace["z"] == [[0, 1, 0, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0, 0, 0]]
    assert "%{customdata:,} deals" in trace["hovertemplate"]
    assert trace["text"] == [["", "1", "", "", "", "", "", "", ""]] * 2
    assert figure["layout"]["xaxis"]["title"]["text"] == "Current stage"
    assert figure["layout"]["yaxis"]["title"]["text"] == "Country"


def test_country_map_is_an_offline_iso3_choropleth(seeded: Engine) -> None:
    figure = spec(charts.country_map(queries.overview(seeded, filters=Filters(), today=TODAY).country_counts))
    (trace,) = figure["data"]
    assert trace["type"] == "choropleth"
    assert trace["locationmode"] == "ISO-3"
    assert trace["locations"] == ["UKR", "USA"]
    assert trace["z"] == [1, 1]
    assert trace["customdata"] == [[1, 0, 1], [1, 1, 0]]  # deals, as buyer, as seller
    assert "as buyer" in trace["hovertemplate"] and "as seller" in trace["hovertemplate"]
    assert "projection" not in figure["layout"]["geo"]  # plotly's default projection
    assert (
        title(charts.country_map(queries.overview(seeded, filters=Filters(), today=TODAY).country_counts))
        == "Buyers and sellers: deals per country"
    )


def test_flow_sankey(seeded: Engine) -> None:
    figure = spec(charts.flow_sankey(queries.overview(seeded, filters=Filters(), today=TODAY).flows))
    (trace,) = figure["data"]
    assert trace["type"] == "sankey"
    assert trace["node"]["label"] == ["United States (buyer)", "Ukraine (seller)"]
    assert (trace["link"]["source"], trace["link"]["target"], trace["link"]["value"]) == ([0], [1], [1])
    assert trace["link"]["customdata"] == ["United States buys from Ukraine"]


def test_stage_timeline(seeded: Engine) -> None:
    intervals = queries.deal_stage_intervals(seeded, SEED_DEAL, today=TODAY)
    figure = spec(charts.stage_timeline(intervals))
    assert [t["type"] for t in figure["data"]] == ["bar", "bar"]
    announced, negotiating = figure["data"]
    assert (announced["y"], announced["base"], announced["x"]) == (
        ["announced"],
        ["2025-07-01"],
        [83 * DAY_MS],
    )
    assert (negotiating["y"], negotiating["base"], negotiating["x"]) == (
        ["negotiating"],
        ["2025-09-22"],
        [429 * DAY_MS],
    )
    assert negotiating["customdata"] == [[429, "22 Sep 2025 – today", "ongoing"]]
    assert announced["orientation"] == "h"
    assert figure["layout"]["xaxis"]["type"] == "date"
    assert figure["layout"]["xaxis"]["title"]["text"] == "Date"
    assert figure["layout"]["yaxis"]["title"]["text"] == "Stage"


def test_stage_timeline_marks_each_event(seeded: Engine) -> None:
    intervals = queries.deal_stage_intervals(seeded, SEED_DEAL, today=TODAY)
    events = queries.deal_events(seeded, SEED_DEAL)
    figure = spec(charts.stage_timeline(intervals, events=events))
    assert [t["type"] for t in figure["data"]] == ["bar", "bar", "scatter"]
    marks = figure["data"][2]
    assert len(marks["x"]) == 14
    # The last news sits on the current stage's bar, well before its end (today).
    assert (marks["x"][-1], marks["y"][-1], marks["customdata"][-1][0]) == (
        "2025-10-17",
        "negotiating",
        "17 Oct 2025",
    )
    assert (marks["x"][0], marks["y"][0]) == ("2025-07-01", "announced")


def test_a_same_day_stage_stays_visible() -> None:
    day = dt.date(2025, 1, 1)
    intervals = pd.DataFrame(
        [{"deal_id": "x", "stage": "agreed", "start": day, "end": day, "days": 0, "ongoing": False}]
    )
    (trace,) = spec(charts.stage_timeline(intervals))["data"]
    assert trace["x"] == [DAY_MS]
    assert trace["customdata"][0][0] == 0


@pytest.mark.parametrize(
    ("build", "columns", "expected_title"),
    [
        (charts.stage_bar, ["stage", "deals"], "Deals by current stage"),
        (
            charts.stage_country_heatmap,
            ["country_code", "country", "stage", "deals"],
            "Deals by country and stage",
        ),
        (
            charts.country_map,
            ["country_code", "country", "as_buyer", "as_seller", "deals"],
            "Buyers and sellers: deals per country",
        ),
        (
            charts.flow_sankey,
            ["buyer_code", "buyer", "seller_code", "seller", "deals"],
            "Buyer → seller: deals per pair of countries",
        ),
        (charts.stage_timeline, ["deal_id", "stage", "start", "end", "days", "ongoing"], "Stage timeline"),
    ],
)
def test_empty_frames_give_annotated_empty_figures(build, columns: list[str], expected_title: str) -> None:
    figure = spec(build(pd.DataFrame(columns=columns)))
    assert figure["data"] == []
    assert figure["layout"]["title"]["text"] == expected_title
    assert figure["layout"]["annotations"][0]["text"]


def test_no_webgl_or_tile_traces(seeded: Engine) -> None:
    figures = [
        charts.stage_bar(queries.deals_by_stage(seeded)),
        charts.stage_country_heatmap(queries.overview(seeded, filters=Filters(), today=TODAY).matrix),
        charts.country_map(queries.overview(seeded, filters=Filters(), today=TODAY).country_counts),
        charts.flow_sankey(queries.overview(seeded, filters=Filters(), today=TODAY).flows),
        charts.stage_timeline(queries.deal_stage_intervals(seeded, SEED_DEAL, today=TODAY)),
    ]
    types = {trace["type"] for figure in figures for trace in spec(figure)["data"]}
    assert types == {"bar", "heatmap", "choropleth", "sankey"}
    webgl_or_tiles = {
        "scattergl",
        "heatmapgl",
        "scatter3d",
        "scattermap",
        "scattermapbox",
        "choroplethmap",
        "choroplethmapbox",
        "densitymap",
        "densitymapbox",
    }
    assert not types & webgl_or_tiles


def test_charts_of_a_whole_register_stay_readable() -> None:
    """27,304 completed transfers beside a dozen live deals: log scales, separators, no shrunk numbers."""
    by_stage = pd.DataFrame({"stage": list(STAGE_NAMES), "deals": [3, 5, 0, 0, 12, 40, 27_304, 1, 639]})
    bar = spec(charts.stage_bar(by_stage))
    assert bar["data"][0]["text"] == ["3", "5", "0", "0", "12", "40", "27,304", "1", "639"]
    assert (bar["layout"]["yaxis"]["type"], bar["layout"]["yaxis"]["title"]["text"]) == (
        "log",
        "Deals (log scale)",
    )
    matrix = pd.DataFrame(
        {
            "country_code": ["USA", "USA", "UKR"],
            "country": ["United States", "United States", "Ukraine"],
            "stage": ["completed", "negotiating", "negotiating"],
            "deals": [9_999, 2, 1],
        }
    )
    (heat,) = spec(charts.stage_country_heatmap(matrix))["data"]
    assert heat["text"][0][STAGE_NAMES.index("completed")] == "9.9k"  # fits the cell; the hover is exact
    assert heat["z"][0][STAGE_NAMES.index("completed")] == 4.0  # log10(9,999 + 1)
    assert heat["customdata"][0][STAGE_NAMES.index("completed")] == 9_999
    assert heat["textfont"] == {"size": 13}
    assert heat["colorbar"]["ticktext"] == ["1", "10", "100", "1,000"]
    counts = pd.DataFrame(
        {
            "country_code": ["USA", "UKR", "FRA"],
            "country": ["United States", "Ukraine", "France"],
            "as_buyer": [100, 1, 10],
            "as_seller": [9_900, 0, 0],
            "deals": [10_000, 1, 10],
        }
    )
    (world,) = spec(charts.country_map(counts))["data"]
    assert world["z"] == [4.0, 0.0, 1.0]  # France and Ukraine are not white beside the United States
    assert world["colorbar"]["ticktext"] == ["1", "10", "100", "1,000", "10,000"]


def test_charts_of_nothing_say_so() -> None:
    empty = pd.DataFrame(columns=["stage", "deals"])
    figures = [
        charts.stage_bar(empty),
        charts.stage_country_heatmap(pd.DataFrame(columns=["country_code", "country", "stage", "deals"])),
        charts.country_map(
            pd.DataFrame(columns=["country_code", "country", "as_buyer", "as_seller", "deals"])
        ),
        charts.flow_sankey(pd.DataFrame(columns=["buyer_code", "buyer", "seller_code", "seller", "deals"])),
    ]
    assert [spec(figure)["layout"]["annotations"][0]["text"] for figure in figures] == [
        "No deals match the filters",
        "No buyer or seller countries in the matching deals",
        "No buyer or seller countries in the matching deals",
        "No deal with both a buyer and a seller country",
    ]
