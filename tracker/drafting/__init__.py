"""Draft ledger rows from a news article: rules over the ledger's own vocabularies, offline.

The analyst stays in charge: the drafter proposes rows in the upload format, each with the sentences
and spans it read, and the importer checks them as any upload. See docs/drafting.md.
"""

from tracker.drafting.draft import (
    DRAFT_COLUMNS,
    ArticleSource,
    Draft,
    DraftRow,
    draft_article,
    draft_csv_bytes,
    read_article,
)
from tracker.drafting.ledger import LedgerDeal, LedgerKnowledge, LedgerParty, read_knowledge
from tracker.drafting.text import Sentence, Span

__all__ = [
    "DRAFT_COLUMNS",
    "ArticleSource",
    "Draft",
    "DraftRow",
    "LedgerDeal",
    "LedgerKnowledge",
    "LedgerParty",
    "Sentence",
    "Span",
    "draft_article",
    "draft_csv_bytes",
    "read_article",
    "read_knowledge",
]
