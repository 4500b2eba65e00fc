"""The words the drafter reads, declared once: stage cues, hedges, attribution, titles, bodies, systems,
currencies. Stage names, roles and party kinds are the ledger's own (tracker.vocab); countries,
adjectives and capitals are tracker.countries'.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StageCue:
    """Words that report a development of a deal: the stage they support and the kind of development
    (two sentences about the same kind of development on overlapping dates are one event)."""

    stage: str
    kind: str
    pattern: str


_SIGN = r"(?:sign|signs|signed|signing|ink|inks|inked)"
_DET = r"(?:an?|the|its|their)\s+"
# Up to six words between the verb and its object noun: "signed a $6.5 billion contract".
_GAP = r"(?:(?!preliminary|framework|initial|outline|interim)[^\s;]+\s+){0,6}?"

# Order matters only for reading: each sentence's stage is the highest on-path stage (or the
# cancellation or stall) among its cues that are neither hedged nor negated.
STAGE_CUES: tuple[StageCue, ...] = (
    # announced: a proposal, an intention stated in public
    StageCue(
        "announced", "proposal", r"\b(?:announc(?:e|es|ed|ing)|unveil(?:s|ed|ing)?|reveal(?:s|ed|ing)?)\b"
    ),
    StageCue("announced", "proposal", r"\b(?:propos(?:e|es|ed|ing|al|als)|offer(?:s|ed|ing)?)\b"),
    StageCue("announced", "proposal", r"\bdiscuss(?:es|ed|ing|ion|ions)?\b"),
    StageCue(
        "announced",
        "proposal",
        r"\b(?:wants?|wanted|plans?|planned|planning|intends?|intended|seeks?|sought|hopes?|hoped|aims?|aimed)"
        r"\s+to\s+(?:buy|purchase|acquire|order|procure|sign)\b",
    ),
    StageCue("announced", "proposal", r"\b(?:will|would)\s+(?:buy|purchase|acquire|procure)\b"),
    StageCue("announced", "proposal", r"\b(?:expressed|expresses|showed) interest\b"),
    StageCue("announced", "proposal", r"\b(?:is|are|was|were) considering\b"),
    # A document the text calls a political intention only supports no more than announced.
    StageCue(
        "announced",
        "intention",
        r"\bdeclaration of intent\b|\bpolitical (?:intention|declaration)\b|\bnon-?binding\b",
    ),
    # negotiating: talks, delegations, meetings of the sides
    StageCue("negotiating", "talks", r"\bnegotiat(?:e|es|ed|ing|ion|ions|or|ors)\b|\btalks\b"),
    StageCue("negotiating", "talks", r"\b(?:technical|working|expert)\s+(?:groups?|teams?|level)\b"),
    StageCue("negotiating", "talks", r"\bworking on (?:an? |the )?(?:agreement|deal|contract)\b"),
    StageCue("negotiating", "talks", r"\bhammer(?:s|ed|ing)? out\b|\bcounterparts\b"),
    StageCue("negotiating", "delegation", r"\bdelegations?\b|\bconsultations\b"),
    StageCue("negotiating", "meeting", r"\b(?:meeting|meetings|met|meet|meets|sitdown|sit-down|summit)\b"),
    # agreed: terms agreed, or a preliminary document signed
    StageCue(
        "agreed",
        "agreement",
        rf"\b{_SIGN}\s+{_GAP}(?:letters? of intent|memorand(?:um|a)(?: of understanding)?|MoUs?|LoIs?|"
        r"(?:preliminary|framework|initial|outline|interim|intergovernmental|government-to-government)\s+"
        r"(?:deal|agreement|accord|contract)s?|agreements?|accords?)\b",
    ),
    StageCue(
        "agreed",
        "agreement",
        r"\b(?:letter of intent|memorandum of understanding|MoU|framework agreement|"
        r"preliminary (?:deal|agreement))"
        r"\s+(?:was|were|has been|had been|is|being)\s+signed\b",
    ),
    StageCue(
        "agreed",
        "agreement",
        r"\breach(?:es|ed|ing)?\s+(?:an?\s+|the\s+)?(?:\w+\s+)?agreement\b|\bagreed(?:\s+[^\s.;,]+){0,3}?\s+(?:on|to)\s+(?:the\s+)?"
        r"(?:terms|price|deal|purchase|sale|buy|sell|supply)\b",
    ),
    StageCue(
        "agreed",
        "agreement",
        r"\b(?:concluded|completed|finali[sz]ed|wrapped up)\s+(?:the\s+)?(?:talks|negotiations|terms)\b"
        r"|\b(?:finali[sz]ed|initial(?:l)?ed)\s+(?:the\s+|an?\s+)?(?:agreement|deal|contract)\b",
    ),
    # approved: the bodies that must approve it have
    StageCue(
        "approved",
        "approval",
        r"\b(?:approv(?:e|es|ed|al)|authori[sz](?:e|es|ed|ation)|ratif(?:y|ies|ied|ication)|"
        r"green-?light(?:s|ed)?|gave (?:the )?(?:go-ahead|green light)|cleared the (?:sale|deal|export))\b",
    ),
    # contracted: a contract or order placed
    StageCue("contracted", "contract", rf"\b{_SIGN}\s+{_GAP}(?:contracts?|deals?|orders?)\b"),
    StageCue(
        "contracted",
        "contract",
        r"\b(?:contract|deal|order)s?\s+(?:(?:was|were|has been|had been|have been|is|be|been|being)\s+)?"
        r"(?:signed|placed|awarded)\b",
    ),
    StageCue(
        "contracted",
        "contract",
        rf"\b(?:placed|places|place|awarded|awards|award)\s+{_GAP}(?:order|contract)s?\b|\bordered\b",
    ),
    # delivering and completed
    StageCue(
        "delivering",
        "delivery",
        r"\b(?:first|initial)\s+(?:batch|deliver(?:y|ies)|shipment|units?|aircraft|systems?)\b"
        r"|\b(?:began|begun|begin|begins|started|starts|start)\s+deliver(?:ing|ies)\b"
        r"|\bdeliver(?:ies|y)\s+(?:began|begun|have begun|started|have started)\b"
        r"|\b(?:delivered|handed over|received|took delivery of)\s+(?:the\s+)?(?:first|initial)\b",
    ),
    StageCue(
        "completed",
        "completion",
        r"\b(?:delivered|handed over|received)\s+(?:the\s+)?(?:last|final|remaining)\b"
        r"|\b(?:final|last)\s+deliver(?:y|ies)\b|\bcompleted\s+(?:the\s+)?deliver(?:y|ies)\b",
    ),
    # off the path
    StageCue(
        "stalled",
        "stall",
        r"\b(?:stall(?:s|ed)?|suspend(?:s|ed)?|on hold|froze|frozen|halted|paused|put on ice)\b",
    ),
    StageCue(
        "cancelled",
        "cancellation",
        r"\b(?:cancel(?:s|led|ed|ling|ing)?|cancellation|scrap(?:s|ped|ping)?|shelv(?:e|es|ed|ing)|"
        r"abandon(?:s|ed|ing)?|terminat(?:e|es|ed|ing)|pulled out of|withdr(?:ew|awn) from|"
        r"(?:decided|decision|chose) not to (?:buy|purchase|proceed|acquire|order)|"
        r"dropped (?:its |the )?plans?)\b",
    ),
)

# A cue the sentence does not assert: its stage is not taken (but noted). Checked in the few words
# before the cue, within its clause.
HEDGES: tuple[str, ...] = (
    "could", "would", "might", "may", "hope to", "hopes to", "hoped to", "hoping to", "plan to", "plans to",
    "planned to", "planning to", "aim to", "aims to", "aiming to", "intend to", "intends to",
    "is considering",
    "are considering", "considering", "expected to", "likely to", "set to", "due to", "seek to", "seeks to",
    "seeking to", "want to", "wants to", "potential", "possible", "prospective", "proposed", "if", "unless",
    "ready to", "prepared to", "in order to", "preparatory step for", "intent to", "intention to",
)  # fmt: skip
# The future counts as a hedge for everything but talks: planned talks are talks, a contract to be
# signed next month is not a contract.
FUTURE_MARKERS: tuple[str, ...] = ("will", "shall", "is to", "are to", "to be", "going to")
NEGATIONS: tuple[str, ...] = (
    "not", "n't", "no", "never", "yet to", "without", "refused to", "declined to", "failed to", "denied",
)  # fmt: skip
HEDGE_WINDOW_WORDS = 3

# Attribution that lowers the credibility suggested for a claim.
ANONYMOUS_ATTRIBUTION = (
    r"\b(?:unnamed|anonymous|anonymity|sources? (?:familiar|close|said|say|told)|people familiar|"
    r"person familiar|insiders?|a source\b|according to sources)"
)
SECOND_HAND_ATTRIBUTION = (
    r"\b(?:according to (?:media|press|local|news)? ?reports?|media reports?|(?:was|were) reported by|"
    r"reportedly|citing (?:a |an )?(?:report|media|local media|news)|rumou?rs?)\b"
)
CONFIRMED_BY_BOTH = r"\bboth (?:sides|governments|countries|parties) (?:have )?(?:confirmed|said|announced)\b"

# Titles before a person's name, and the role they give in a deal (tracker.vocab.ROLES).
PERSON_TITLES: dict[str, str] = {
    "president": "head of state", "king": "head of state", "emir": "head of state", "sultan": "head of state",
    "crown prince": "head of state", "prime minister": "official", "premier": "official",
    "chancellor": "official", "minister": "official", "defence minister": "official",
    "defense minister": "official", "foreign minister": "official", "deputy minister": "official",
    "deputy defence minister": "official", "deputy defense minister": "official",
    "secretary": "official", "defense secretary": "official", "defence secretary": "official",
    "secretary of state": "official", "ambassador": "official", "general": "official", "gen.": "official",
    "admiral": "official", "adm.": "official", "colonel": "official", "col.": "official",
    "commander": "official", "director": "official", "chief": "official", "head": "official",
    "official": "official", "senator": "official", "sen.": "official", "chairman": "official",
    "chief executive": "official", "ceo": "official", "spokesman": "spokesperson",
    "spokeswoman": "spokesperson", "spokesperson": "spokesperson", "press secretary": "spokesperson",
    "adviser": "negotiator", "advisor": "negotiator", "envoy": "negotiator", "negotiator": "negotiator",
    "chief negotiator": "negotiator", "special envoy": "negotiator",
}  # fmt: skip
# Phrases around a name that give a role outright.
ROLE_PHRASES: tuple[tuple[str, str], ...] = (
    (r"\b(?:led|leads|leading|heads|headed|heading)\s+(?:the\s+|a\s+)?(?:\w+\s+)?delegation\b", "negotiator"),
    (r"\bdelegation\s+(?:led|headed)\s+by\b", "negotiator"),
    (r"\b(?:made|built|produced|manufactured|developed|designed)\s+by\b", "manufacturer"),
    (r"\b(?:financed|funded|paid for)\s+by\b", "financier"),
    (r"\b(?:brokered|mediated|facilitated)\s+by\b", "intermediary"),
)

# Words that end the name of a body, and its kind (tracker.vocab.PARTY_KINDS).
BODY_HEADS: dict[str, str] = {
    "ministry": "ministry", "department": "ministry", "agency": "agency", "council": "agency",
    "office": "agency", "bureau": "agency", "directorate": "agency", "administration": "agency",
    "inspectorate": "agency", "command": "armed service", "army": "armed service", "navy": "armed service",
    "air force": "armed service", "armed forces": "armed service", "marine corps": "armed service",
    "coast guard": "armed service", "space force": "armed service", "congress": "legislature",
    "senate": "legislature", "parliament": "legislature", "sejm": "legislature", "bundestag": "legislature",
    "knesset": "legislature", "national assembly": "legislature", "house of representatives": "legislature",
    "verkhovna rada": "legislature", "rada": "legislature", "duma": "legislature",
}  # fmt: skip
COMPANY_SUFFIXES: tuple[str, ...] = (
    "Inc", "Inc.", "Corp", "Corp.", "Corporation", "Ltd", "Ltd.", "plc", "PLC", "AG", "SA", "S.A.", "AB",
    "ASA", "GmbH", "SpA", "Group", "Industries", "Heavy Industries", "Aerospace", "Aviation", "Systems",
    "Dynamics", "Technologies", "Shipbuilding", "Shipyard", "Defence", "Defense", "Motors",
    "Electronics", "Holding", "Holdings",
)  # fmt: skip
COMPANY_NOUNS = (
    r"(?:firm|company|maker|manufacturer|group|contractor|shipbuilder|shipyard|producer|giant|supplier)"
)

# Names the press uses for bodies: each is that body, of that kind and state.
BODY_ALIASES: dict[str, tuple[str, str]] = {
    "Pentagon": ("ministry", "USA"), "State Department": ("ministry", "USA"),
    "Defense Department": ("ministry", "USA"), "White House": ("agency", "USA"), "Kremlin": ("agency", "RUS"),
    "Downing Street": ("agency", "GBR"), "Elysee": ("agency", "FRA"), "Élysée": ("agency", "FRA"),
}  # fmt: skip
# The same bodies as the ledger may name them.
BODY_LEDGER_NAMES: dict[str, tuple[str, ...]] = {
    "Pentagon": ("US Department of Defense", "Department of Defense", "United States Department of Defense"),
    "Defense Department": ("US Department of Defense", "Department of Defense"),
    "State Department": ("US Department of State", "Department of State"),
}
# Spellings that differ between British and American English in bodies' names.
SPELLINGS: dict[str, str] = {"defense": "defence", "armored": "armoured", "programs": "programmes"}

# Publishers and wire services: named in a report, they are its source, never a party to a deal.
NEWS_OUTLETS: tuple[str, ...] = (
    "Reuters", "AFP", "Agence France-Presse", "AP", "Associated Press", "Bloomberg", "Yonhap", "PAP",
    "TASS", "RIA Novosti", "Interfax", "Ukrinform", "Anadolu", "Defense News", "Janes", "Jane's", "Xinhua",
    "Kyodo", "The Post", "The Times", "The Guardian", "The New York Times", "The Wall Street Journal",
    "Financial Times", "The Independent", "Politico", "Axios", "CNN", "BBC", "Newsmax", "Breaking Defense",
)  # fmt: skip

# Nouns that name what a deal is for, and the ledger category they belong to.
SYSTEM_NOUNS: dict[str, str] = {
    "drones": "UAV", "drone": "UAV", "UAVs": "UAV", "UAV": "UAV", "unmanned aerial vehicles": "UAV",
    "unmanned aircraft": "UAV", "fighter jets": "aircraft", "fighter jet": "aircraft", "fighters": "aircraft",
    "fighter": "aircraft", "jets": "aircraft", "jet": "aircraft", "warplanes": "aircraft",
    "combat aircraft": "aircraft", "aircraft": "aircraft", "transport aircraft": "aircraft",
    "trainer jets": "aircraft", "trainers": "aircraft", "planes": "aircraft", "helicopters": "helicopters",
    "helicopter": "helicopters", "tanks": "armoured vehicles", "tank": "armoured vehicles",
    "armoured vehicles": "armoured vehicles", "armored vehicles": "armoured vehicles",
    "infantry fighting vehicles": "armoured vehicles", "vehicles": "armoured vehicles",
    "howitzers": "artillery", "howitzer": "artillery", "rocket launchers": "artillery",
    "launchers": "artillery", "artillery systems": "artillery", "guns": "artillery", "missiles": "missiles",
    "missile": "missiles", "interceptors": "missiles", "air defence systems": "air defence systems",
    "air defense systems": "air defence systems", "air defence system": "air defence systems",
    "air defense system": "air defence systems", "batteries": "air defence systems",
    "frigates": "ships", "frigate": "ships", "corvettes": "ships", "corvette": "ships",
    "destroyers": "ships", "warships": "ships", "ships": "ships", "vessels": "ships",
    "patrol boats": "ships", "patrol vessels": "ships", "submarines": "submarines", "submarine": "submarines",
    "radars": "sensors", "radar": "sensors", "radar systems": "sensors", "systems": "",
}  # fmt: skip

NUMBER_WORDS: dict[str, str] = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "a dozen": "12", "two dozen": "24",
}  # fmt: skip

CURRENCY_SYMBOLS: dict[str, str] = {
    "US$": "USD", "$": "USD", "A$": "AUD", "C$": "CAD", "NZ$": "NZD", "€": "EUR", "£": "GBP", "₩": "KRW",
    "₹": "INR", "₺": "TRY", "₴": "UAH", "₪": "ILS",
}  # fmt: skip
CURRENCY_WORDS: dict[str, str] = {
    "dollars": "USD", "us dollars": "USD", "euros": "EUR", "euro": "EUR", "pounds": "GBP",
    "pounds sterling": "GBP", "sterling": "GBP", "yen": "JPY", "won": "KRW", "zlotys": "PLN", "zloty": "PLN",
    "zlotych": "PLN", "swedish crowns": "SEK", "swedish kronor": "SEK", "kronor": "SEK",
    "norwegian crowns": "NOK", "norwegian kroner": "NOK", "danish crowns": "DKK", "danish kroner": "DKK",
    "rupees": "INR", "lira": "TRY", "liras": "TRY", "shekels": "ILS", "dirhams": "AED", "riyals": "SAR",
    "swiss francs": "CHF", "hryvnias": "UAH", "hryvnia": "UAH", "roubles": "RUB", "rubles": "RUB",
    "yuan": "CNY", "reais": "BRL", "rand": "ZAR", "australian dollars": "AUD", "canadian dollars": "CAD",
}  # fmt: skip
CURRENCY_CODES: tuple[str, ...] = (
    "USD", "EUR", "GBP", "JPY", "KRW", "PLN", "SEK", "NOK", "DKK", "INR", "TRY", "ILS", "AED", "SAR", "CHF",
    "UAH", "RUB", "CNY", "BRL", "ZAR", "AUD", "CAD", "NZD",
)  # fmt: skip
