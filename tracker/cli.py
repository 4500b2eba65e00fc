"""`python -m tracker ...`: the ledger from the command line, over the same library as the dashboard."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from tracker import changes, queries, revisions
from tracker.auth import EDITOR_NAME, add_editor_to_file, hash_password
from tracker.backup import backup_ledger
from tracker.briefs import FORMATS, deal_brief, render, view_brief
from tracker.dates import parse_partial_date
from tracker.db import SECRETS_PATH, head_revision, open_ledger
from tracker.drafting.command import EXAMPLE as DRAFT_EXAMPLE
from tracker.drafting.command import add_draft_arguments, run_draft
from tracker.errors import ImportRejected, InvalidValue, OutputNotWritten, TrackerError
from tracker.export import ledger_rows, ledger_workbook, to_csv_bytes
from tracker.files import write_file
from tracker.filters import FILTERS, Filter, Filters, to_query, url_deal_id, view_from_query
from tracker.importer import ImportReport, import_bytes, undo_import
from tracker.seed import seed_ledger


class UsageError(TrackerError):
    """A command-line argument that cannot be used."""


def _editor(args: argparse.Namespace) -> str:
    return args.editor or os.environ.get("USER") or getpass.getuser() or "cli"


# Lines a list in the CLI's import report shows; the rest are counted ("… and 3 more").
LISTED = 20


def _print_list(title: str, lines: list[str], *, total: int) -> None:
    """`lines`: the first LISTED of `total`."""
    print(f"{title} ({total}):")
    for line in lines:
        print(f"  {line}")
    if total > len(lines):
        print(f"  … and {total - len(lines)} more")


def _print_import(report: ImportReport) -> None:
    print(report.describe())
    for warning in report.warnings:
        print(f"Warning: {warning}")
    if report.stage_moves:
        _print_list(
            "Deal stages would move",
            [
                f"{move.deal_id}: {move.before or 'no stage'} -> {move.after}"
                for move in report.stage_moves[:LISTED]
            ],
            total=report.stages_moved,
        )
    if report.changes:
        _print_list(
            f"Deal attributes {'would change' if report.dry_run else 'changed'}",
            [
                f"{change.deal_id}: {change.field} {change.old!r} -> {change.new!r}"
                for change in report.changes[:LISTED]
            ],
            total=len(report.changes),
        )


def cmd_init(args: argparse.Namespace) -> int:
    engine = open_ledger(args.database)
    print(f"Ledger ready at {engine.url.render_as_string(hide_password=True)} (schema {head_revision()}).")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    engine = open_ledger(args.database)
    for report in seed_ledger(engine):
        _print_import(report)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path} is not a file.")
    engine = open_ledger(args.database)
    report = import_bytes(
        engine, path.read_bytes(), file_name=path.name, editor=_editor(args), dry_run=args.dry_run
    )
    _print_import(report)
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    engine = open_ledger(args.database)
    result = undo_import(engine, args.import_id, editor=_editor(args))
    print(result.describe())
    return 0


def cmd_imports(args: argparse.Namespace) -> int:
    history = queries.import_history(open_ledger(args.database))
    if history.empty:
        print("No imports yet. Seed the ledger with `python -m tracker seed`.")
        return 0
    for row in history.itertuples(index=False):
        undone = (
            f", undone {row.undone_at:%Y-%m-%d %H:%M} by {row.undone_by}" if row.status == "undone" else ""
        )
        print(
            f"#{row.id} {row.committed_at:%Y-%m-%d %H:%M} {row.file_name} ({row.format}) by {row.editor}: "
            f"{row.events_added} events, {row.deals_created} new deals{undone}"
        )
    return 0


# The `changes` command's --since/--until are its window; its event-date filters take these flags.
CHANGES_FILTER_FLAGS = {"--since": "--events-since", "--until": "--events-until"}


def _flag(spec: Filter, renamed: Mapping[str, str]) -> str:
    assert spec.cli is not None
    return renamed.get(spec.cli.flag, spec.cli.flag)


def _filters(args: argparse.Namespace, *, renamed: Mapping[str, str] = MappingProxyType({})) -> Filters:
    """The Filters value the filter options give (tracker.filters.FILTERS), their flags `renamed`."""
    try:
        return Filters(
            **{
                spec.field: spec.from_cli(getattr(args, _flag(spec, renamed).lstrip("-").replace("-", "_")))
                for spec in FILTERS
                if spec.cli
            }
        )
    except InvalidValue as exc:
        raise UsageError(f"{exc.message}. {exc.fix}") from exc


def _add_filter_options(
    parser: argparse.ArgumentParser, *, renamed: Mapping[str, str] = MappingProxyType({})
) -> None:
    """One option per filter that has one (tracker.filters.FILTERS), their flags `renamed`."""
    for spec in FILTERS:
        if spec.cli is None:
            continue
        parser.add_argument(
            _flag(spec, renamed),
            action="append" if spec.cli.repeatable else "store",
            choices=spec.cli.choices,
            help=spec.cli.help,
        )


def _days(text: str, option: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a date of any precision ("2026-11": 1 and 30 November)."""
    try:
        date = parse_partial_date(text)
    except InvalidValue as exc:
        raise UsageError(f"{option}: {exc.message}. {exc.fix}") from exc
    return date.start, date.end


def cmd_changes(args: argparse.Namespace) -> int:
    filters = _filters(args, renamed=CHANGES_FILTER_FLAGS)
    since = dt.datetime.combine(_days(args.since, "--since")[0], dt.time.min)
    if args.until:
        until = dt.datetime.combine(_days(args.until, "--until")[1] + dt.timedelta(days=1), dt.time.min)
    else:
        until = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    if until <= since:
        raise UsageError(f"--until ({args.until or 'now'}) is before --since ({args.since}); swap them.")
    engine = open_ledger(args.database)
    result = changes.digest(engine, since=since, until=until, filters=filters)
    caption = filters.caption()
    if args.format == "csv":
        data = to_csv_bytes(changes.to_frame(result))
    elif args.format == "atom":
        query = to_query(filters, queries.filter_options(engine))
        data = changes.to_atom(result, caption=caption, feed_id=changes.feed_id(query))
    else:
        data = changes.to_text(result, caption=caption).encode()
    if _write_output(data, args.output, binary=None):
        print(f"{caption}: {len(result.changes)} changes written to {args.output}.", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    engine = open_ledger(args.database)
    filters = _filters(args)
    rows = ledger_rows(engine, filters)
    if args.format == "xlsx":
        data = ledger_workbook(engine, filters, rows=rows)
    else:
        data = to_csv_bytes(rows)
    if _write_output(data, args.output, binary="an XLSX workbook" if args.format == "xlsx" else None):
        print(f"{filters.caption()}: {len(rows)} rows written to {args.output}.", file=sys.stderr)
    return 0


def _write_output(data: bytes, output: str | None, *, binary: str | None) -> bool:
    """Write to the file `output`, or to standard output (None or "-"), refused at a terminal for
    `binary` data ("an XLSX workbook"). True when a file was written."""
    if output not in (None, "-"):
        write_file(Path(output), data)
        return True
    if binary is not None and sys.stdout.isatty():
        raise UsageError(f"{binary} is binary; give --output FILE")
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:  # a stream cannot be taken back: say that what arrived is incomplete
        raise OutputNotWritten(
            f"cannot write to standard output: {exc.strerror}. What was written is incomplete; "
            "use --output FILE."
        ) from exc
    return False


def _shown(raw: str, *, limit: int = 40) -> str:
    """A value from an address as text to print: control characters escaped, long values cut."""
    text = "".join(ch.encode("unicode_escape").decode() if not ch.isprintable() else ch for ch in raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cmd_brief(args: argparse.Namespace) -> int:
    if (args.deal_id is None) == (args.view is None):
        raise UsageError('give either a deal id or --view "QUERY" (a dashboard address)')
    engine = open_ledger(args.database)
    try:
        if args.view is None:
            brief = deal_brief(engine, url_deal_id(args.deal_id))
        else:
            view = view_from_query(args.view, queries.filter_options(engine), today=dt.date.today())
            # Reported as the pages report them: the value, why, and how to write it; the rest is used.
            for key, raw, problem in view.ignored:
                print(
                    f"Ignored in the address: {key}={_shown(raw)} ({problem.message}; {problem.fix}).",
                    file=sys.stderr,
                )
            brief = view_brief(engine, filters=view.filters, as_of=view.as_of)
    except InvalidValue as exc:
        raise UsageError(f"{exc.message}. {exc.fix}") from exc
    data = render(brief, args.format)
    if _write_output(data, args.output, binary="a DOCX document" if args.format == "docx" else None):
        print(f"{brief.heading} of {brief.title}: written to {args.output}.", file=sys.stderr)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    engine = open_ledger(args.database)
    print(f"Ledger: {engine.url.render_as_string(hide_password=True)}")
    for name, count in queries.ledger_counts(engine).items():
        print(f"  {name}: {count}")
    print("Deals by stage:")
    for row in queries.deals_by_stage(engine).itertuples(index=False):
        print(f"  {row.stage}: {row.deals}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    engine = open_ledger(args.database)
    destination = Path(args.destination or f"tracker-backup-{dt.datetime.now():%Y%m%d-%H%M%S}.db")
    print(f"Backed up to {backup_ledger(engine, destination)}.")
    return 0


def _new_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not sys.stdin.isatty():
        # getpass would fall back to reading a line of the pipe, with a warning, and ask twice. The example
        # names the command that was run (hash-password or add-editor), the name quoted for the shell.
        command = f"python -m tracker {args.command} {shlex.quote(args.username)} --password-stdin"
        raise UsageError(
            "there is no terminal to ask for the password; pipe it in with --password-stdin "
            f"(printf '%s' \"$PASSWORD\" | {command})."
        )
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            raise UsageError("the two passwords differ; run the command again.")
    if len(password) < 10:
        raise UsageError("use a password of at least 10 characters.")
    return password


def cmd_hash_password(args: argparse.Namespace) -> int:
    print(f'{args.username} = "{hash_password(_new_password(args))}"')
    print("Add that line under [editors] in .streamlit/secrets.toml.", file=sys.stderr)
    return 0


def cmd_add_editor(args: argparse.Namespace) -> int:
    if not EDITOR_NAME.fullmatch(args.username):
        raise UsageError('an editor name is letters, digits, "-" and "_" (at most 100 characters).')
    path = Path(args.secrets)
    replaced = add_editor_to_file(path, args.username, hash_password(_new_password(args)))
    done = "has a new password" if replaced else "added"
    print(f"Editor {args.username} {done} in {path}. Reload the dashboard's pages to log in with it.")
    return 0


def cmd_retract(args: argparse.Namespace) -> int:
    engine = open_ledger(args.database)
    done = revisions.retract_event(engine, args.event_id, reason=args.reason, editor=_editor(args))
    print(f"{done.description} Undo it with `python -m tracker undo {done.import_id}`.")
    return 0


def cmd_regrade(args: argparse.Namespace) -> int:
    engine = open_ledger(args.database)
    done = revisions.regrade_source(
        engine, args.source_id, args.grade, reason=args.reason, editor=_editor(args)
    )
    print(f"{done.description} Undo it with `python -m tracker undo {done.import_id}`.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tracker", description="The defense-deal ledger.")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL (default: $TRACKER_DATABASE_URL, secrets.toml, else data/tracker.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, example: str, handler) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    command("init", "create or migrate the ledger", "python -m tracker init", cmd_init)
    command("seed", "import the seed data (the US–Ukraine Drone Deal)", "python -m tracker seed", cmd_seed)
    sub = command(
        "import",
        "import a ledger CSV or a SIPRI export",
        "python -m tracker import updates.csv --dry-run",
        cmd_import,
    )
    sub.add_argument("file", help="the CSV file")
    sub.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    sub.add_argument("--editor", help="who is importing (default: $USER)")
    sub = command(
        "undo", "undo an import (if no later import depends on it)", "python -m tracker undo 3", cmd_undo
    )
    sub.add_argument("import_id", type=int, help="the import's number, from `imports`")
    sub.add_argument("--editor", help="who is undoing (default: $USER)")
    command("imports", "list the import history", "python -m tracker imports", cmd_imports)
    sub = command(
        "export",
        "export the (filtered) ledger in the upload format",
        "python -m tracker export --country Ukraine --role seller --format xlsx --output ukraine.xlsx",
        cmd_export,
    )
    sub.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    sub.add_argument("--output", help="file to write (default: standard output)")
    _add_filter_options(sub)
    sub = command(
        "changes",
        "what changed in the (filtered) ledger between two dates: new deals, stage moves, events, sources, "
        "retractions, corrections, regrades, changed value and quantity claims, overdue signposts",
        "python -m tracker changes --since 2026-11-01 --country Ukraine --format atom --output ukraine.atom",
        cmd_changes,
    )
    sub.add_argument(
        "--since", required=True, help="from the start of this day, UTC (YYYY-MM-DD; YYYY-MM: its first day)"
    )
    sub.add_argument("--until", help="to the end of this day, UTC (default: now)")
    sub.add_argument("--format", choices=("text", "csv", "atom"), default="text")
    sub.add_argument("--output", help="file to write (default: standard output)")
    _add_filter_options(sub, renamed=CHANGES_FILTER_FLAGS)
    sub = command(
        "brief",
        "a brief to hand over: one deal, or the deals of a dashboard view, as HTML or DOCX",
        "python -m tracker brief us-ukraine-drone-deal --format docx --output drone-deal.docx\n"
        "         python -m tracker brief --view 'country=UKR&country_as=seller&as_of=2025-10-01' "
        "--output ukraine.html",
        cmd_brief,
    )
    sub.add_argument("deal_id", nargs="?", help="the deal's id (as in ?deal=... on its page)")
    sub.add_argument(
        "--view",
        metavar="QUERY",
        help="a dashboard address, or its part after ?, for a view brief (as_of=YYYY-MM-DD: as publicly "
        "reported by that day; with as_of_mode=recorded, as recorded in this ledger by then, and with "
        "as_of_time=HH:MM by the end of that minute, UTC)",
    )
    sub.add_argument("--format", choices=tuple(FORMATS), default="html")
    sub.add_argument("--output", help="file to write (default: standard output)")
    command("stats", "summarise the ledger", "python -m tracker stats", cmd_stats)
    add_draft_arguments(command("draft", "draft ledger rows from a news article", DRAFT_EXAMPLE, run_draft))
    sub = command(
        "backup",
        "copy a SQLite ledger safely while it is in use",
        "python -m tracker backup backups/tracker-2026-11-25.db",
        cmd_backup,
    )
    sub.add_argument("destination", nargs="?", help="the new file (default: tracker-backup-<time>.db)")
    sub = command(
        "hash-password",
        "make an editor's password hash for secrets.toml",
        "python -m tracker hash-password alice",
        cmd_hash_password,
    )
    sub.add_argument("username")
    sub.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub = command(
        "add-editor",
        "add an editor (or give one a new password) in the secrets file the dashboard reads",
        "python -m tracker add-editor alice",
        cmd_add_editor,
    )
    sub.add_argument("username")
    sub.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_argument(
        "--secrets", default=str(SECRETS_PATH), help=f"the secrets file to write (default: {SECRETS_PATH})"
    )
    sub = command(
        "retract",
        "retract an event: it leaves the current views; the as-of views before now keep it",
        'python -m tracker retract 42 --reason "the source withdrew the report"',
        cmd_retract,
    )
    sub.add_argument("event_id", type=int, help="the event's number (deal page, Events tab)")
    sub.add_argument("--reason", required=True, help="why, recorded in the deal's history")
    sub.add_argument("--editor", help="who is retracting (default: $USER)")
    sub = command(
        "regrade",
        "give a source a new reliability grade (A-F), recorded with the old one",
        'python -m tracker regrade 7 B --reason "confirmed by two official statements"',
        cmd_regrade,
    )
    sub.add_argument("source_id", type=int, help="the source's number (Sources page)")
    sub.add_argument("grade", help="the new reliability, A (completely reliable) to F (cannot be judged)")
    sub.add_argument("--reason", required=True, help="why, recorded in the history of the deals it supports")
    sub.add_argument("--editor", help="who is regrading (default: $USER)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ImportRejected as exc:
        print(f"error: {len(exc.problems)} problem(s); nothing was imported.", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except TrackerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (`... | head`): not an error worth a traceback
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
