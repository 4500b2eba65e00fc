"""The ledger's controlled vocabularies: stages, roles, party kinds, source kinds and grades."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from tracker.errors import InvalidValue


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    order: int
    on_path: bool
    description: str


STAGES: tuple[Stage, ...] = (
    Stage("announced", 1, True, "Publicly proposed or announced; no formal talks reported yet."),
    Stage("negotiating", 2, True, "Delegations or technical groups are negotiating terms."),
    Stage("agreed", 3, True, "Terms agreed or an agreement signed, pending approvals and a contract."),
    Stage(
        "approved",
        4,
        True,
        "Approved by the bodies that must approve it (government, parliament, export control).",
    ),
    Stage("contracted", 5, True, "A contract or order has been placed."),
    Stage("delivering", 6, True, "Deliveries have begun."),
    Stage("completed", 7, True, "All deliveries made; the deal is done."),
    Stage("stalled", 8, False, "Talks or deliveries are reported stalled or suspended."),
    Stage("cancelled", 9, False, "The deal has been cancelled or abandoned."),
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
STAGE_ORDER: dict[str, int] = {s.name: s.order for s in STAGES}
STAGE_BY_NAME: dict[str, Stage] = {s.name: s for s in STAGES}
# Stages in which a deal is still live: used by "active deals" and "stale deals".
ACTIVE_STAGES: tuple[str, ...] = (
    "announced",
    "negotiating",
    "agreed",
    "approved",
    "contracted",
    "delivering",
    "stalled",
)

# Words analysts and sources use for the same stages.
STAGE_ALIASES: dict[str, str] = {
    "proposed": "announced",
    "proposal": "announced",
    "announcement": "announced",
    "planned": "announced",
    "intent": "announced",
    "in talks": "negotiating",
    "talks": "negotiating",
    "negotiation": "negotiating",
    "negotiations": "negotiating",
    "in negotiation": "negotiating",
    "agreement": "agreed",
    "signed agreement": "agreed",
    "memorandum": "agreed",
    "mou": "agreed",
    "approval": "approved",
    "authorised": "approved",
    "authorized": "approved",
    "cleared": "approved",
    "signed contract": "contracted",
    "contract signed": "contracted",
    "contract": "contracted",
    "ordered": "contracted",
    "order": "contracted",
    "in delivery": "delivering",
    "deliveries": "delivering",
    "delivery": "delivering",
    "delivered": "completed",
    "complete": "completed",
    "done": "completed",
    "on hold": "stalled",
    "suspended": "stalled",
    "paused": "stalled",
    "stopped": "stalled",
    "canceled": "cancelled",
    "cancel": "cancelled",
    "abandoned": "cancelled",
    "terminated": "cancelled",
}
_STAGE_LOOKUP: dict[str, str] = {**{n: n for n in STAGE_NAMES}, **STAGE_ALIASES}


def resolve_stage(text: str) -> str | None:
    """The canonical stage for `text`, None for an empty cell; InvalidValue for anything unknown."""
    key = " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    if not key:
        return None
    if key in _STAGE_LOOKUP:
        return _STAGE_LOOKUP[key]
    near = difflib.get_close_matches(key, list(_STAGE_LOOKUP), n=1, cutoff=0.6)
    hint = f"Did you mean {_STAGE_LOOKUP[near[0]]}? " if near else ""
    raise InvalidValue(
        f'unknown stage "{text.strip()}"',
        fix=f"{hint}Use one of: {', '.join(STAGE_NAMES)} (or leave it empty when the stage does not change).",
    )


ROLES: dict[str, str] = {
    "buyer": "Acquires the equipment.",
    "seller": "Supplies the equipment (the exporting state or its agencies).",
    "manufacturer": "Builds the equipment.",
    "negotiator": "Negotiates the deal for one side.",
    "signatory": "Signed an agreement or contract of the deal for one side.",
    "financier": "Pays for or finances the deal.",
    "intermediary": "Brokers or facilitates the deal between the sides.",
    "spokesperson": "Speaks publicly about the deal for one side.",
    "head of state": "Head of state of one side, party to the political decision.",
    "official": "An official who made a statement about the deal, with no other stated role.",
    "participant": "Took part in talks or meetings about the deal.",
}

PARTY_KINDS: dict[str, str] = {
    "state": "A sovereign state.",
    "ministry": "A government ministry or department.",
    "agency": "A government agency or office.",
    "armed service": "An armed service or command.",
    "company": "A company.",
    "person": "A named person.",
    "international organisation": "An international organisation.",
    "legislature": "A parliament or congress.",
    "non-state group": "A non-state armed group or an unidentified recipient.",
}

SOURCE_KINDS: dict[str, str] = {
    "news": "News report.",
    "official statement": "Statement by an official or government body.",
    "government document": "Published government document.",
    "database": "Curated database (e.g. SIPRI).",
}

# NATO Admiralty code (STANAG 2511 / AJP-2.1).
RELIABILITY: dict[str, str] = {
    "A": "Completely reliable",
    "B": "Usually reliable",
    "C": "Fairly reliable",
    "D": "Not usually reliable",
    "E": "Unreliable",
    "F": "Reliability cannot be judged",
}
CREDIBILITY: dict[int, str] = {
    1: "Confirmed by other sources",
    2: "Probably true",
    3: "Possibly true",
    4: "Doubtful",
    5: "Improbable",
    6: "Truth cannot be judged",
}


def _resolve_keyword(text: str, vocabulary: dict[str, str], what: str) -> str:
    key = " ".join(text.strip().lower().replace("_", " ").split())
    if key in vocabulary:
        return key
    near = difflib.get_close_matches(key, list(vocabulary), n=1, cutoff=0.6)
    hint = f"Did you mean {near[0]}? " if near else ""
    raise InvalidValue(f'unknown {what} "{text.strip()}"', fix=f"{hint}Use one of: {', '.join(vocabulary)}.")


def resolve_role(text: str) -> str:
    return _resolve_keyword(text, ROLES, "role")


def resolve_party_kind(text: str) -> str:
    return _resolve_keyword(text, PARTY_KINDS, "party kind")


def resolve_source_kind(text: str) -> str:
    return _resolve_keyword(text, SOURCE_KINDS, "source kind")


def resolve_reliability(text: str) -> str:
    key = text.strip().upper()
    if key in RELIABILITY:
        return key
    raise InvalidValue(
        f'"{text.strip()}" is not a source reliability grade',
        fix="Use a letter A (completely reliable) to F (cannot be judged), the NATO Admiralty code.",
    )


def resolve_credibility(text: str) -> int:
    key = text.strip()
    if key in {"1", "2", "3", "4", "5", "6"}:
        return int(key)
    raise InvalidValue(
        f'"{key}" is not a claim credibility grade',
        fix="Use a digit 1 (confirmed) to 6 (cannot be judged), the NATO Admiralty code.",
    )
