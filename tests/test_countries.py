"""Country resolution: exact inputs to exact codes, names, messages and fixes."""

from __future__ import annotations

import dataclasses

import pycountry
import pytest

from tracker.countries import Country, country_by_code, resolve_country, split_countries, suggest_countries
from tracker.errors import InvalidValue

HOW = "Use a country name or an ISO 3166 code such as UKR."

RESOLVED = [
    # ISO codes and names straight from pycountry
    ("UA", "UKR", "Ukraine"),
    ("UKR", "UKR", "Ukraine"),
    ("Ukraine", "UKR", "Ukraine"),
    ("GIN", "GIN", "Guinea"),
    ("Guinea", "GIN", "Guinea"),
    ("Sudan", "SDN", "Sudan"),
    ("South Sudan", "SSD", "South Sudan"),
    ("Niger", "NER", "Niger"),
    ("Korea, Republic of", "KOR", "South Korea"),
    ("Taiwan, Province of China", "TWN", "Taiwan"),
    ("Congo, The Democratic Republic of the", "COD", "DR Congo"),
    ("Plurinational State of Bolivia", "BOL", "Bolivia"),
    ("United Kingdom of Great Britain and Northern Ireland", "GBR", "United Kingdom"),
    # United States
    ("USA", "USA", "United States"),
    ("US", "USA", "United States"),
    ("U.S.", "USA", "United States"),
    ("U.S.A.", "USA", "United States"),
    ("America", "USA", "United States"),
    ("United States", "USA", "United States"),
    ("United States of America", "USA", "United States"),
    # United Kingdom
    ("UK", "GBR", "United Kingdom"),
    ("U.K.", "GBR", "United Kingdom"),
    ("GB", "GBR", "United Kingdom"),
    ("Britain", "GBR", "United Kingdom"),
    ("Great Britain", "GBR", "United Kingdom"),
    ("England", "GBR", "United Kingdom"),
    # Renamed, colloquial and abbreviated names
    ("Russia", "RUS", "Russia"),
    ("Russian Federation", "RUS", "Russia"),
    ("Turkey", "TUR", "Türkiye"),
    ("Türkiye", "TUR", "Türkiye"),
    ("Turkiye", "TUR", "Türkiye"),
    ("Ivory Coast", "CIV", "Côte d'Ivoire"),
    ("Cote d'Ivoire", "CIV", "Côte d'Ivoire"),
    ("Côte d'Ivoire", "CIV", "Côte d'Ivoire"),
    ("Kosovo", "XKX", "Kosovo"),
    ("XKX", "XKX", "Kosovo"),
    ("XK", "XKX", "Kosovo"),
    ("Iran", "IRN", "Iran"),
    ("Syria", "SYR", "Syria"),
    ("North Korea", "PRK", "North Korea"),
    ("DPRK", "PRK", "North Korea"),
    ("South Korea", "KOR", "South Korea"),
    ("ROK", "KOR", "South Korea"),
    ("Republic of Korea", "KOR", "South Korea"),
    ("Taiwan", "TWN", "Taiwan"),
    ("Vietnam", "VNM", "Vietnam"),
    ("Viet Nam", "VNM", "Vietnam"),
    ("Laos", "LAO", "Laos"),
    ("Moldova", "MDA", "Moldova"),
    ("Czech Republic", "CZE", "Czechia"),
    ("Czechia", "CZE", "Czechia"),
    ("Bolivia", "BOL", "Bolivia"),
    ("Venezuela", "VEN", "Venezuela"),
    ("Tanzania", "TZA", "Tanzania"),
    ("Palestine", "PSE", "Palestine"),
    ("Vatican", "VAT", "Vatican"),
    ("Holy See", "VAT", "Vatican"),
    ("Macedonia", "MKD", "North Macedonia"),
    ("North Macedonia", "MKD", "North Macedonia"),
    ("Burma", "MMR", "Myanmar"),
    ("Myanmar", "MMR", "Myanmar"),
    ("Swaziland", "SWZ", "Eswatini"),
    ("Eswatini", "SWZ", "Eswatini"),
    ("Cape Verde", "CPV", "Cabo Verde"),
    ("East Timor", "TLS", "Timor-Leste"),
    ("UAE", "ARE", "United Arab Emirates"),
    ("Holland", "NLD", "Netherlands"),
    ("Netherlands", "NLD", "Netherlands"),
    ("Congo-Kinshasa", "COD", "DR Congo"),
    ("DRC", "COD", "DR Congo"),
    ("DR Congo", "COD", "DR Congo"),
    ("Democratic Republic of the Congo", "COD", "DR Congo"),
    ("Congo-Brazzaville", "COG", "Congo"),
    ("Republic of the Congo", "COG", "Congo"),
    ("COG", "COG", "Congo"),
    # Case, whitespace and Unicode normalisation
    ("ukraine", "UKR", "Ukraine"),
    ("UKRAINE", "UKR", "Ukraine"),
    ("ua", "UKR", "Ukraine"),
    ("ukr", "UKR", "Ukraine"),
    ("  Ukraine\t\n", "UKR", "Ukraine"),
    ("United   States", "USA", "United States"),
    ("United\u00a0Kingdom", "GBR", "United Kingdom"),
    ("TÜRKIYE", "TUR", "Türkiye"),
    ("Tu\u0308rkiye", "TUR", "Türkiye"),  # decomposed ü (NFD)
    ("Côte d\u2019Ivoire", "CIV", "Côte d'Ivoire"),  # typographic apostrophe
    ("\u200bUkraine", "UKR", "Ukraine"),
    ("Ukr\u200caine", "UKR", "Ukraine"),
    ("U\u200dK", "GBR", "United Kingdom"),
    ("Ukraine\u2060", "UKR", "Ukraine"),
    ("\ufeffUKR", "UKR", "Ukraine"),
    ("Tu\u200b\u0308rkiye", "TUR", "Türkiye"),  # zero-width between base and accent
]


@pytest.mark.parametrize(("text", "code", "name"), RESOLVED)
def test_resolve_country(text: str, code: str, name: str) -> None:
    assert resolve_country(text) == Country(code=code, name=name)


AMBIGUOUS = [
    (
        "Congo",
        '"Congo" is ambiguous: it could be Congo (Republic of the Congo, COG) or DR Congo (COD)',
        "Write COG or COD.",
    ),
    (
        " congo\u200b ",
        '"congo" is ambiguous: it could be Congo (Republic of the Congo, COG) or DR Congo (COD)',
        "Write COG or COD.",
    ),
    (
        "Korea",
        '"Korea" is ambiguous: it could be South Korea (KOR) or North Korea (PRK)',
        "Write KOR or PRK.",
    ),
    (
        "KOREA",
        '"KOREA" is ambiguous: it could be South Korea (KOR) or North Korea (PRK)',
        "Write KOR or PRK.",
    ),
]


@pytest.mark.parametrize(("text", "message", "fix"), AMBIGUOUS)
def test_ambiguous_country_is_refused(text: str, message: str, fix: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        resolve_country(text)
    assert (raised.value.message, raised.value.fix) == (message, fix)
    assert str(raised.value) == message


UNKNOWN = [
    ("Ukrane", 'unknown country "Ukrane"', f"Did you mean Ukraine? {HOW}"),
    ("  Ukrane\u200b", 'unknown country "Ukrane"', f"Did you mean Ukraine? {HOW}"),
    ("Irak", 'unknown country "Irak"', f"Did you mean Iraq or Iran? {HOW}"),
    ("Holand", 'unknown country "Holand"', f"Did you mean Holland or Poland? {HOW}"),
    ("Sth Korea", 'unknown country "Sth Korea"', f"Did you mean South Korea or North Korea? {HOW}"),
    ("Turky", 'unknown country "Turky"', f"Did you mean Turkey? {HOW}"),
    ("Untied States", 'unknown country "Untied States"', f"Did you mean United States? {HOW}"),
    # Historical and non-state actors are another module's business.
    ("Soviet Union", 'unknown country "Soviet Union"', HOW),
    ("USSR", 'unknown country "USSR"', HOW),
    ("Yugoslavia", 'unknown country "Yugoslavia"', HOW),
    ("unknown rebel group", 'unknown country "unknown rebel group"', HOW),
    ("Hezbollah", 'unknown country "Hezbollah"', HOW),
    ("NATO", 'unknown country "NATO"', HOW),
    ("ZZZ", 'unknown country "ZZZ"', HOW),
    ("", "no country given", HOW),
    ("   ", "no country given", HOW),
    ("\u200b\ufeff", "no country given", HOW),
]


@pytest.mark.parametrize(("text", "message", "fix"), UNKNOWN)
def test_unknown_country_is_refused(text: str, message: str, fix: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        resolve_country(text)
    assert (raised.value.message, raised.value.fix) == (message, fix)


SUGGESTIONS = [
    ("Ukrane", {}, ["Ukraine"]),
    ("ukrane", {}, ["Ukraine"]),
    ("Britian", {}, ["Britain"]),
    ("Swizerland", {}, ["Switzerland"]),
    ("Holand", {}, ["Holland", "Poland"]),
    ("Holand", {"limit": 1}, ["Holland"]),
    ("Turky", {}, ["Turkey"]),  # one name per country, not Turkey and Turkiye
    ("Niger", {}, ["Niger", "Nigeria"]),
    ("Afganistan", {"limit": 1}, ["Afghanistan"]),
    ("Congo", {}, ["DR Congo"]),  # the ambiguous word itself is never offered
    ("Korea", {}, []),
    ("Soviet Union", {}, []),
    ("", {}, []),
]


@pytest.mark.parametrize(("text", "options", "expected"), SUGGESTIONS)
def test_suggest_countries(text: str, options: dict[str, int], expected: list[str]) -> None:
    assert suggest_countries(text, **options) == expected


def test_suggest_countries_rejects_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="limit must be at least 1, not 0"):
        suggest_countries("Ukrane", limit=0)


BY_CODE = [
    ("UKR", "Ukraine"),
    ("USA", "United States"),
    ("GBR", "United Kingdom"),
    ("RUS", "Russia"),
    ("TUR", "Türkiye"),
    ("IRN", "Iran"),
    ("KOR", "South Korea"),
    ("PRK", "North Korea"),
    ("SYR", "Syria"),
    ("VNM", "Vietnam"),
    ("TWN", "Taiwan"),
    ("BOL", "Bolivia"),
    ("VEN", "Venezuela"),
    ("TZA", "Tanzania"),
    ("MDA", "Moldova"),
    ("LAO", "Laos"),
    ("CZE", "Czechia"),
    ("CIV", "Côte d'Ivoire"),
    ("XKX", "Kosovo"),
    ("COD", "DR Congo"),
    ("COG", "Congo"),
    ("PSE", "Palestine"),
    ("FSM", "Micronesia"),
    ("VGB", "British Virgin Islands"),
    ("VIR", "US Virgin Islands"),
    ("FRA", "France"),
]


@pytest.mark.parametrize(("code", "name"), BY_CODE)
def test_country_by_code(code: str, name: str) -> None:
    assert country_by_code(code) == Country(code=code, name=name)


@pytest.mark.parametrize("code", ["ukr", "UA", "SUN", "XXX", "", "Ukraine"])
def test_country_by_code_rejects_anything_but_an_alpha_3_code(code: str) -> None:
    with pytest.raises(KeyError):
        country_by_code(code)


SPLITS = [
    ("USA; United Kingdom", ["USA", "United Kingdom"]),
    ("USA;United Kingdom;France", ["USA", "United Kingdom", "France"]),
    ("  USA  ;  ;; United Kingdom ;", ["USA", "United Kingdom"]),
    (
        "Korea, Republic of; Congo, The Democratic Republic of the",
        ["Korea, Republic of", "Congo, The Democratic Republic of the"],
    ),
    ("Ukraine", ["Ukraine"]),
    ("\u200b; Ukraine\u200b", ["Ukraine"]),
    ("", []),
    (" ; ", []),
]


@pytest.mark.parametrize(("text", "expected"), SPLITS)
def test_split_countries(text: str, expected: list[str]) -> None:
    assert split_countries(text) == expected


def test_every_country_resolves_by_its_code_and_display_name() -> None:
    codes = [c.alpha_3 for c in pycountry.countries] + ["XKX"]
    # "Congo" is COG's display name and also ambiguous: it alone does not round-trip.
    unresolvable = []
    for code in codes:
        country = country_by_code(code)
        assert resolve_country(code) == country
        try:
            assert resolve_country(country.name) == country
        except InvalidValue:
            unresolvable.append(code)
    assert (len(codes), unresolvable) == (250, ["COG"])


def test_country_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolve_country("UKR").code = "RUS"  # type: ignore[misc]
