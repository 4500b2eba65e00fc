"""Country names and codes as analysts write them, resolved to ISO 3166-1 alpha-3.

Resolution is exact (after normalising case, whitespace and invisible characters) and
never guesses: ambiguous or unknown text raises `InvalidValue`, with close names offered
only as suggestions in the message.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from typing import Literal

import pycountry

from tracker.errors import InvalidValue


@dataclass(frozen=True, slots=True)
class Country:
    """A country: ISO 3166-1 alpha-3 code and the short name an analyst uses."""

    code: str
    name: str


# Kosovo has no ISO 3166 code, so pycountry lacks it (and its fuzzy search returns Serbia).
# XK/XKX are the user-assigned codes the EU, IMF and SIPRI-style datasets use.
_EXTRA_COUNTRIES: dict[str, tuple[str, str]] = {"XKX": ("XK", "Kosovo")}

# Display names. pycountry renames countries between releases (Turkey -> Türkiye,
# Swaziland -> Eswatini), and stored and displayed names should change only when we
# decide, so the names analysts rely on are pinned here; the rest replace ISO's
# inverted forms ("Congo, The Democratic Republic of the").
_SHORT_NAMES: dict[str, str] = {
    "UKR": "Ukraine",
    "USA": "United States",
    "GBR": "United Kingdom",
    "RUS": "Russia",
    "TUR": "Türkiye",
    "IRN": "Iran",
    "KOR": "South Korea",
    "PRK": "North Korea",
    "SYR": "Syria",
    "VNM": "Vietnam",
    "TWN": "Taiwan",
    "BOL": "Bolivia",
    "VEN": "Venezuela",
    "TZA": "Tanzania",
    "MDA": "Moldova",
    "LAO": "Laos",
    "CZE": "Czechia",
    "CIV": "Côte d'Ivoire",
    "XKX": "Kosovo",
    "COD": "DR Congo",
    "FSM": "Micronesia",
    "PSE": "Palestine",
    "VAT": "Vatican",
    "VGB": "British Virgin Islands",
    "VIR": "US Virgin Islands",
}

# Names analysts and source datasets use that ISO does not (former, colloquial and
# English-press names, abbreviations). Names pycountry has today are listed too, for
# the same reason as _SHORT_NAMES: a pycountry upgrade must not make them unknown.
_ALIASES: dict[str, str] = {
    "U.S.": "USA",
    "U.S.A.": "USA",
    "America": "USA",
    "United States of America": "USA",
    "UK": "GBR",
    "U.K.": "GBR",
    "Britain": "GBR",
    "Great Britain": "GBR",
    # England is not a state: arms deals are made by the UK government, so a source
    # writing "England" means the United Kingdom.
    "England": "GBR",
    "Russian Federation": "RUS",
    "Turkey": "TUR",
    "Turkiye": "TUR",
    "Ivory Coast": "CIV",
    "Cote d'Ivoire": "CIV",
    "Islamic Republic of Iran": "IRN",
    "Syrian Arab Republic": "SYR",
    "DPRK": "PRK",
    "Democratic People's Republic of Korea": "PRK",
    "ROK": "KOR",
    "Republic of Korea": "KOR",
    "Viet Nam": "VNM",
    "Lao PDR": "LAO",
    "Republic of Moldova": "MDA",
    "Czech Republic": "CZE",
    "Palestine": "PSE",
    "State of Palestine": "PSE",
    "Vatican City": "VAT",
    "Holy See": "VAT",
    "Macedonia": "MKD",
    "North Macedonia": "MKD",
    "Burma": "MMR",
    "Myanmar": "MMR",
    "Swaziland": "SWZ",
    "Eswatini": "SWZ",
    "Cape Verde": "CPV",
    "Cabo Verde": "CPV",
    "East Timor": "TLS",
    "Timor-Leste": "TLS",
    "UAE": "ARE",
    "Holland": "NLD",
    "Netherlands": "NLD",
    "Congo-Kinshasa": "COD",
    "DRC": "COD",
    "Democratic Republic of the Congo": "COD",
    "Democratic Republic of Congo": "COD",
    "Congo-Brazzaville": "COG",
    "Republic of the Congo": "COG",
    "Republic of Congo": "COG",
}

# How the press names states in running text besides their names: adjectives ("Ukrainian"), and
# capitals used for their governments ("Seoul signed ..."). Read by the article drafter
# (tracker.drafting), which counts a capital as a state only where the sentence makes it a party:
# "talks in Washington" is a place. Ambiguous adjectives ("Korean", "Congolese") are left out.
DEMONYMS: dict[str, str] = {
    "Afghan": "AFG", "Albanian": "ALB", "Algerian": "DZA", "American": "USA", "Angolan": "AGO",
    "Argentine": "ARG", "Argentinian": "ARG", "Armenian": "ARM", "Australian": "AUS", "Austrian": "AUT",
    "Azerbaijani": "AZE", "Bahraini": "BHR", "Bangladeshi": "BGD", "Belarusian": "BLR", "Belgian": "BEL",
    "Bolivian": "BOL", "Bosnian": "BIH", "Brazilian": "BRA", "British": "GBR", "Bulgarian": "BGR",
    "Cambodian": "KHM", "Canadian": "CAN", "Chilean": "CHL", "Chinese": "CHN", "Colombian": "COL",
    "Croatian": "HRV", "Cuban": "CUB", "Cypriot": "CYP", "Czech": "CZE", "Danish": "DNK", "Dutch": "NLD",
    "Ecuadorian": "ECU", "Egyptian": "EGY", "Emirati": "ARE", "Estonian": "EST", "Ethiopian": "ETH",
    "Filipino": "PHL", "Finnish": "FIN", "French": "FRA", "Georgian": "GEO", "German": "DEU",
    "Ghanaian": "GHA", "Greek": "GRC", "Hungarian": "HUN", "Icelandic": "ISL", "Indian": "IND",
    "Indonesian": "IDN", "Iranian": "IRN", "Iraqi": "IRQ", "Irish": "IRL", "Israeli": "ISR",
    "Italian": "ITA", "Japanese": "JPN", "Jordanian": "JOR", "Kazakh": "KAZ", "Kenyan": "KEN",
    "Kosovar": "XKX", "Kuwaiti": "KWT", "Latvian": "LVA", "Lebanese": "LBN", "Libyan": "LBY",
    "Lithuanian": "LTU", "Malaysian": "MYS", "Mexican": "MEX", "Moldovan": "MDA", "Mongolian": "MNG",
    "Montenegrin": "MNE", "Moroccan": "MAR", "Nigerian": "NGA", "North Korean": "PRK",
    "Norwegian": "NOR", "Omani": "OMN", "Pakistani": "PAK", "Peruvian": "PER", "Philippine": "PHL",
    "Polish": "POL", "Portuguese": "PRT", "Qatari": "QAT", "Romanian": "ROU", "Russian": "RUS",
    "Saudi": "SAU", "Senegalese": "SEN", "Serbian": "SRB", "Singaporean": "SGP", "Slovak": "SVK",
    "Slovenian": "SVN", "South African": "ZAF", "South Korean": "KOR", "Spanish": "ESP",
    "Sri Lankan": "LKA", "Swedish": "SWE", "Swiss": "CHE", "Syrian": "SYR", "Taiwanese": "TWN",
    "Thai": "THA", "Tunisian": "TUN", "Turkish": "TUR", "Ukrainian": "UKR", "Uzbek": "UZB",
    "Venezuelan": "VEN", "Vietnamese": "VNM", "Yemeni": "YEM",
}  # fmt: skip
CAPITALS: dict[str, str] = {
    "Abu Dhabi": "ARE", "Ankara": "TUR", "Athens": "GRC", "Baghdad": "IRQ", "Beijing": "CHN",
    "Berlin": "DEU", "Brasilia": "BRA", "Bucharest": "ROU", "Budapest": "HUN", "Cairo": "EGY",
    "Canberra": "AUS", "Copenhagen": "DNK", "Delhi": "IND", "Doha": "QAT", "Hanoi": "VNM",
    "Helsinki": "FIN", "Islamabad": "PAK", "Jakarta": "IDN", "Kabul": "AFG", "Kiev": "UKR", "Kyiv": "UKR",
    "London": "GBR", "Madrid": "ESP", "Manila": "PHL", "Minsk": "BLR", "Moscow": "RUS",
    "New Delhi": "IND", "Oslo": "NOR", "Ottawa": "CAN", "Paris": "FRA", "Prague": "CZE",
    "Pyongyang": "PRK", "Riyadh": "SAU", "Rome": "ITA", "Seoul": "KOR", "Stockholm": "SWE",
    "Taipei": "TWN", "Tehran": "IRN", "Tel Aviv": "ISR", "Tokyo": "JPN", "Vienna": "AUT",
    "Vilnius": "LTU", "Warsaw": "POL", "Washington": "USA",
}  # fmt: skip
# Codes the press writes in running text. Only these, and only in capitals: other ISO codes are English
# words ("IN", "IT", "NO") and would turn every sentence into a list of countries.
PRESS_ABBREVIATIONS: tuple[str, ...] = (
    "US",
    "U.S.",
    "USA",
    "U.S.A.",
    "UK",
    "U.K.",
    "UAE",
    "DPRK",
    "ROK",
    "DRC",
)

# Names that fit more than one country (keys are lookup keys): each is refused with the
# codes to choose from. Entries are (code, gloss); the gloss disambiguates a display name
# that is itself the ambiguous word.
_AMBIGUOUS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "congo": (("COG", "Republic of the Congo"), ("COD", None)),
    "korea": (("KOR", None), ("PRK", None)),
}

_HOW_TO_WRITE = "Use a country name or an ISO 3166 code such as UKR."

# difflib's default 0.6 offers "UAE" and "France" for "Ukrane"; 0.75 still catches a
# one-letter slip in a four-letter name ("Irak" -> Iraq, Iran).
_SUGGEST_CUTOFF = 0.75

# Pasted text carries invisible characters that make two equal-looking names differ.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# Word processors turn apostrophes into right single quotes ("Côte d’Ivoire").
_TYPOGRAPHIC = {ord("\u2019"): "'"}


def _clean(text: str) -> str:
    """Drop invisible characters, NFC-normalise, collapse and trim whitespace."""
    text = text.translate(_INVISIBLE).translate(_TYPOGRAPHIC)
    return " ".join(unicodedata.normalize("NFC", text).split())


def _key(text: str) -> str:
    """The lookup key for `text`: cleaned and case-folded."""
    return unicodedata.normalize("NFC", _clean(text).casefold())


def _build() -> tuple[dict[str, Country], dict[str, Country], dict[str, str]]:
    """Countries by code, countries by lookup key, and name spellings by key."""
    by_code: dict[str, Country] = {}
    codes: dict[str, str] = {}
    spellings: dict[str, str] = {}

    def add(text: str, code: str, *, is_name: bool) -> None:
        key = _key(text)
        if codes.setdefault(key, code) != code:
            raise ValueError(f"country key {text!r} maps to both {codes[key]} and {code}")
        if is_name:
            spellings.setdefault(key, text)

    rows = [
        (c.alpha_2, c.alpha_3, [getattr(c, "common_name", None), c.name, getattr(c, "official_name", None)])
        for c in pycountry.countries
    ]
    rows += [(alpha_2, code, [name]) for code, (alpha_2, name) in _EXTRA_COUNTRIES.items()]
    for alpha_2, code, candidates in rows:
        names = [name for name in candidates if name]
        display = _SHORT_NAMES.get(code, names[0])
        by_code[code] = Country(code=code, name=display)
        add(alpha_2, code, is_name=False)
        add(code, code, is_name=False)
        for name in [display, *names]:
            add(name, code, is_name=True)
    for alias, code in _ALIASES.items():
        add(alias, code, is_name=True)
    for key in _AMBIGUOUS:
        codes.pop(key, None)
        spellings.pop(key, None)
    return by_code, {key: by_code[code] for key, code in codes.items()}, spellings


_BY_CODE, _BY_KEY, _SPELLINGS = _build()

PhraseForm = Literal["name", "abbreviation", "demonym", "capital"]


@dataclass(frozen=True, slots=True)
class CountryPhrase:
    """How a piece of running text names a state: by name, abbreviation, adjective or capital."""

    country: Country
    form: PhraseForm


def _build_phrases() -> dict[str, CountryPhrase]:
    phrases: dict[str, CountryPhrase] = {}
    for key in _SPELLINGS:
        phrases[key] = CountryPhrase(_BY_KEY[key], "name")
    for forms, form in ((DEMONYMS, "demonym"), (CAPITALS, "capital")):
        for text, code in forms.items():
            phrases.setdefault(_key(text), CountryPhrase(_BY_CODE[code], form))
    for text in PRESS_ABBREVIATIONS:
        # Exact case: "US" is a state, "us" a pronoun.
        phrases[text] = CountryPhrase(_BY_KEY[_key(text)], "abbreviation")
    return phrases


_PHRASES = _build_phrases()


def country_phrase(text: str) -> CountryPhrase | None:
    """The state a phrase of running text names ("Ukrainian", "the U.K." without "the", "Seoul"), or None.

    Abbreviations must be written in capitals; names, adjectives and capitals in any case (the caller
    decides whether a lower-case word can be a name at all). Ambiguous words ("Korea", "Korean") give None.
    """
    if text in _PHRASES:
        return _PHRASES[text]
    found = _PHRASES.get(_key(text))
    return None if found is None or found.form == "abbreviation" else found


def resolve_country(text: str) -> Country:
    """The country `text` names exactly (a name, alias, or ISO alpha-2/alpha-3 code)."""
    key = _key(text)
    country = _BY_KEY.get(key)
    if country is not None:
        return country
    shown = _clean(text)
    if not shown:
        raise InvalidValue("no country given", fix=_HOW_TO_WRITE)
    choices = _AMBIGUOUS.get(key)
    if choices:
        options = [
            f"{_BY_CODE[code].name} ({gloss + ', ' if gloss else ''}{code})" for code, gloss in choices
        ]
        raise InvalidValue(
            f'"{shown}" is ambiguous: it could be {_or_list(options)}',
            fix=f"Write {_or_list([code for code, _ in choices])}.",
        )
    suggestions = suggest_countries(text)
    hint = f"Did you mean {_or_list(suggestions)}? " if suggestions else ""
    raise InvalidValue(f'unknown country "{shown}"', fix=hint + _HOW_TO_WRITE)


# States that no longer exist, which SIPRI's registers name: ISO 3166-3 codes where ISO withdrew one;
# North Yemen and South Vietnam had none of their own (ISO carried YEM and VNM over), so they get
# user-assigned codes. They are parties of kind "state", never buyers or sellers by current code.
FORMER_STATES: dict[str, str] = {
    "SUN": "Soviet Union",
    "YUG": "Yugoslavia",
    "CSK": "Czechoslovakia",
    "DDR": "East Germany",
    "YMD": "South Yemen",
    "XNY": "North Yemen",
    "XSV": "South Vietnam",
}


def is_former_state(code: str) -> bool:
    return code in FORMER_STATES


def party_country_code(text: str) -> str:
    """The code of the country a party belongs to: a current country (as `resolve_country` reads it) or
    a former state by its code (SUN, YUG, ...)."""
    code = _clean(text).upper()
    if code in FORMER_STATES:
        return code
    return resolve_country(text).code


def country_by_code(code: str) -> Country:
    """The country with ISO alpha-3 `code` (upper case); KeyError if there is none."""
    return _BY_CODE[code]


def suggest_countries(text: str, *, limit: int = 3) -> list[str]:
    """Up to `limit` known names closest to `text`, one per country, best first.

    For error messages only: a close name is never a match.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    key = _key(text)
    if not key:
        return []
    seen: set[str] = set()
    names: list[str] = []
    for match in difflib.get_close_matches(key, _SPELLINGS, n=len(_SPELLINGS), cutoff=_SUGGEST_CUTOFF):
        code = _BY_KEY[match].code
        if code not in seen:
            seen.add(code)
            names.append(_SPELLINGS[match])
            if len(names) == limit:
                break
    return names


def split_countries(text: str) -> list[str]:
    """Split a semicolon-separated list of countries; parts are cleaned, empty ones dropped.

    Only semicolons separate: commas occur inside ISO names ("Korea, Republic of").
    """
    return [part for part in map(_clean, text.split(";")) if part]


def _or_list(items: list[str]) -> str:
    """Join as "A", "A or B" or "A, B or C"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def all_countries() -> list[Country]:
    """Every country the ledger knows by code, in name order (for a picker)."""
    return sorted(_BY_CODE.values(), key=lambda country: country.name)
