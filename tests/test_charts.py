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
    # Its first event was reported as a week (29 Sep, "week 39"): the stage starts as precisely as that.
    assert negotiating["customdata"] == [[429, "week of 22 Sep 2025 – today", "ongoing"]]
    assert announced["customdata"] == [[83, "Jul 2025 – week of 22 Sep 2025", "ended"]]
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
        [
            {
                "deal_id": "x",
                "stage": "agreed",
                "start": day,
                "end": day,
                "days": 0,
                "ongoing": False,
                "final": False,
            }
        ]
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


def _matrix(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country_code": [name[:3].upper() for name, _, _ in rows],
            "country": [name for name, _, _ in rows],
            "stage": [stage for _, stage, _ in rows],
            "deals": [deals for _, _, deals in rows],
        }
    )


def _flows(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "buyer_code": [buyer[:3].upper() for buyer, _, _ in rows],
            "buyer": [buyer for buyer, _, _ in rows],
            "seller_code": [seller[:3].upper() for _, seller, _ in rows],
            "seller": [seller for _, seller, _ in rows],
            "deals": [deals for _, _, deals in rows],
        }
    )


COMPLETED, CANCELLED, NEGOTIATING = (STAGE_NAMES.index(s) for s in ("completed", "cancelled", "negotiating"))


@pytest.mark.parametrize(
    ("top", "rows", "others"),
    [
        # (the rows shown, top down; the Others row's counts by stage, or None when there is none)
        (
            3,
            ["United States", "Russia", "France", "Others (2 countries)"],
            {NEGOTIATING: 1, COMPLETED: 1, CANCELLED: 1},
        ),
        (4, ["United States", "Russia", "France", "Poland", "Others (1 country)"], {NEGOTIATING: 1}),
        (5, ["United States", "Russia", "France", "Poland", "Ukraine"], None),
        (20, ["United States", "Russia", "France", "Poland", "Ukraine"], None),
    ],
)
def test_heatmap_keeps_the_top_countries_and_adds_up_the_rest(
    top: int, rows: list[str], others: dict[int, int] | None
) -> None:
    matrix = _matrix(
        [
            # In no particular order: the builder ranks by deals (United States 12, Russia 9, France 3,
            # Poland 2, Ukraine 1), then by name.
            ("Ukraine", "negotiating", 1),
            ("United States", "completed", 10),
            ("Poland", "completed", 1),
            ("Russia", "completed", 9),
            ("United States", "negotiating", 2),
            ("Poland", "cancelled", 1),
            ("France", "contracted", 3),
        ]
    )
    (heat,) = spec(charts.stage_country_heatmap(matrix, top=top))["data"]
    assert heat["y"] == rows
    assert heat["customdata"][0] == [0, 2, 0, 0, 0, 0, 10, 0, 0]
    if others is not None:
        assert heat["customdata"][-1] == [others.get(i, 0) for i in range(len(STAGE_NAMES))]
        assert heat["hovertext"][-1][0] == rows[-1]
    # Nothing lost: the cells add up to the frame's counts.
    assert sum(sum(line) for line in heat["customdata"]) == 27


def test_heatmap_ties_are_ranked_by_name_and_long_names_cut() -> None:
    matrix = _matrix(
        [
            ("Saint Vincent and the Grenadines", "completed", 4),
            ("Bosnia and Herzegovina", "completed", 4),
            ("Central African Republic", "completed", 4),
            ("Angola", "completed", 1),
        ]
    )
    (heat,) = spec(charts.stage_country_heatmap(matrix, top=3))["data"]
    # 22 characters at most on the axis; the hover gives the whole name.
    assert heat["y"] == [
        "Bosnia and Herzegovina",
        "Central African Repub…",
        "Saint Vincent and the…",
        "Others (1 country)",
    ]
    assert [line[0] for line in heat["hovertext"]] == [
        "Bosnia and Herzegovina",
        "Central African Republic",
        "Saint Vincent and the Grenadines",
        "Others (1 country)",
    ]
    assert heat["hovertemplate"] == "%{hovertext}, %{x}: %{customdata:,} deals<extra></extra>"


def test_heatmap_of_the_three_deals_keeps_two_countries(three: Engine) -> None:
    matrix = queries.overview(three, filters=Filters(), today=TODAY).matrix
    (heat,) = spec(charts.stage_country_heatmap(matrix, top=2))["data"]
    assert heat["y"] == ["Ukraine", "Germany", "Others (3 countries)"]
    # United States negotiating; Poland and South Korea, the two sides of one contracted deal, count for
    # each (as they do in their own rows).
    assert heat["customdata"][-1] == [0, 1, 0, 0, 2, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("top", "labels", "links"),
    [
        (
            2,
            ["India (buyer)", "Egypt (buyer)", "Others (2 pairs)", "Russia (seller)",
             "United States (seller)", "Others (2 pairs)"],
            [(0, 3, 5, "India buys from Russia"), (1, 4, 3, "Egypt buys from United States"),
             (2, 5, 4, "2 other pairs of countries")],
        ),
        (
            3,
            ["India (buyer)", "Egypt (buyer)", "Others (1 pair)", "Russia (seller)", "United States (seller)",
             "France (seller)", "Others (1 pair)"],
            [(0, 3, 5, "India buys from Russia"), (1, 4, 3, "Egypt buys from United States"),
             (0, 5, 3, "India buys from France"), (2, 6, 1, "1 other pair of countries")],
        ),
        (
            4,
            ["India (buyer)", "Egypt (buyer)", "Chile (buyer)", "Russia (seller)", "United States (seller)",
             "France (seller)"],
            [(0, 3, 5, "India buys from Russia"), (1, 4, 3, "Egypt buys from United States"),
             (0, 5, 3, "India buys from France"), (2, 4, 1, "Chile buys from United States")],
        ),
    ],
)  # fmt: skip
def test_sankey_keeps_the_top_pairs_and_one_flow_for_the_rest(
    top: int, labels: list[str], links: list[tuple[int, int, int, str]]
) -> None:
    flows = _flows(
        [
            ("Chile", "United States", 1),
            ("India", "France", 3),  # ties with Egypt's: by buyer name, Egypt first
            ("India", "Russia", 5),
            ("Egypt", "United States", 3),
        ]
    )
    (sankey,) = spec(charts.flow_sankey(flows, top=top))["data"]
    assert sankey["node"]["label"] == labels
    link = sankey["link"]
    assert list(zip(link["source"], link["target"], link["value"], link["customdata"])) == links
    assert sum(link["value"]) == 12


def test_charts_of_a_30000_deal_register_keep_every_deal() -> None:
    """190 countries and 3,000 pairs of a register: 20 rows and 15 flows, plus one that carries the rest."""
    countries = [f"Country {number:03d}" for number in range(190)]
    matrix = _matrix(
        [(name, stage, 1 + (number * 7 + index) % 40) for number, name in enumerate(countries)
         for index, stage in enumerate(STAGE_NAMES)]
    )  # fmt: skip
    flows = _flows([(countries[n % 190], countries[(n * 13 + 1) % 190], 1 + n % 19) for n in range(3000)])
    flows = flows.groupby(["buyer_code", "buyer", "seller_code", "seller"], as_index=False)["deals"].sum()
    (heat,) = spec(charts.stage_country_heatmap(matrix))["data"]
    assert (len(heat["y"]), heat["y"][-1]) == (21, "Others (170 countries)")
    assert sum(sum(line) for line in heat["customdata"]) == int(matrix["deals"].sum())
    sankey_figure = spec(charts.flow_sankey(flows))
    link = sankey_figure["data"][0]["link"]
    assert len(link["value"]) == 16
    assert link["customdata"][-1] == f"{len(flows) - 15:,} other pairs of countries"
    assert sum(link["value"]) == int(flows["deals"].sum()) == 29_983
    assert sankey_figure["layout"]["height"] <= 60 + 28 * 16


def test_heatmap_names_that_would_be_cut_alike_stay_whole() -> None:
    matrix = _matrix(
        [
            ("Republic of the Congo (Brazzaville)", "completed", 2),
            ("Republic of the Congo (Kinshasa)", "completed", 1),
            ("Democratic People's Republic of Korea", "completed", 1),
        ]
    )
    (heat,) = spec(charts.stage_country_heatmap(matrix))["data"]
    assert heat["y"] == [
        "Republic of the Congo (Brazzaville)",
        "Democratic People's R…",
        "Republic of the Congo (Kinshasa)",
    ]


def test_a_completed_deal_known_to_the_year_has_no_days_to_today() -> None:
    """SIPRI's years: "2017 – 2018", not "1 Jan 2017 – 1 Jan 2018"; the final stage is a date."""
    years = [dt.date(2017, 1, 1), dt.date(2018, 1, 1), dt.date(2019, 1, 1)]
    intervals = pd.DataFrame(
        {
            "deal_id": ["d"] * 3,
            "stage": ["contracted", "delivering", "completed"],
            "start": years,
            "start_precision": ["year"] * 3,
            "end": [years[1], years[2], dt.date(2026, 11, 30)],
            "days": [365, 365, 2890],
            "ongoing": [False, False, True],
            "final": [False, False, True],
        }
    )
    contracted, delivering, completed = spec(charts.stage_timeline(intervals))["data"]
    assert contracted["customdata"] == [[365, "2017 – 2018", "ended"]]
    assert delivering["customdata"] == [[365, "2018 – 2019", "ended"]]
    assert completed["customdata"][0][1] == "since 2019"
    # Its bar covers 2019, not the years to today: the deliveries keep the chart's width.
    assert (completed["base"], completed["x"]) == (["2019-01-01"], [365 * 86_400_000])
    assert completed["hovertemplate"] == "%{y} %{customdata[1]}<extra></extra>"
    assert "days" not in completed["hovertemplate"] and "days" in delivering["hovertemplate"]
