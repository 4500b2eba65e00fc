"""`python -m tracker draft ARTICLE.txt --published YYYY-MM-DD ...`: the drafter on the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from tracker.db import open_ledger
from tracker.drafting.draft import ArticleSource, draft_article, draft_csv_bytes, read_article
from tracker.errors import DraftRefused

EXAMPLE = (
    "python -m tracker draft article.txt --published 2025-09-29 --publisher 'New York Post' "
    "--output draft.csv"
)


def add_draft_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("article", help="the article as a plain-text file")
    parser.add_argument("--published", required=True, help="the article's publication date, YYYY-MM-DD")
    parser.add_argument(
        "--publisher", default="", help="who published it (its grade is taken from the ledger)"
    )
    parser.add_argument("--title", default="", help="the article's headline")
    parser.add_argument("--url", default="", help="the article's http(s) address")
    parser.add_argument("--output", help="the draft CSV to write (default: standard output)")


def run_draft(args: argparse.Namespace) -> int:
    try:
        published = dt.date.fromisoformat(args.published)
    except ValueError:
        raise DraftRefused(f"--published {args.published!r} is not a date: write it as YYYY-MM-DD") from None
    text = read_article(Path(args.article))
    source = ArticleSource(published=published, publisher=args.publisher, title=args.title, url=args.url)
    draft = draft_article(text, source=source, engine=open_ledger(args.database))
    data = draft_csv_bytes(draft)
    events = len({row.event for row in draft.rows})
    summary = (
        f"{len(draft.rows)} draft rows for {events} events; {draft.deal_reason}. Review before importing."
    )
    if not draft.rows:
        summary = "no development of a deal found in the text: nothing to draft."
    elif not (args.title or args.url):
        summary += " Give --title or --url: the importer needs one of them for the source."
    if args.output in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(args.output).write_bytes(data)
        summary = f"{args.output}: {summary}"
    print(summary, file=sys.stderr)
    return 0
