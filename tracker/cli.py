"""`python -m tracker ...`: the ledger from the command line, over the same library as the dashboard."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from pathlib import Path

from tracker import queries
from tracker.auth import hash_password
from tracker.backup import backup_ledger
from tracker.db import head_revision, open_ledger
from tracker.drafting.command import EXAMPLE as DRAFT_EXAMPLE
from tracker.drafting.command import add_draft_arguments, run_draft
from tracker.errors import ImportRejected, InvalidValue, OutputNotWritten, TrackerError
from tracker.export import ledger_rows, ledger_workbook, to_csv_bytes
from tracker.files import write_file
from tracker.filters import FILTERS, Filters
from tracker.importer import ImportReport, import_bytes, undo_import
from tracker.seed import seed_ledger


class UsageError(TrackerError):
    """A command-line argument that cannot be used."""


def _editor(args: argparse.Namespace) -> str:
    return args.editor or os.environ.get("USER") or getpass.getuser() or "cli"


def _print_import(report: ImportReport) -> None:
    print(report.describe())
    if report.changes:
        shown = report.changes[:20]
        verb = "would change" if report.dry_run else "changed"
        print(f"Deal attributes {verb} ({len(report.changes)}):")
        for change in shown:
            print(f"  {change.deal_id}: {change.field} {change.old!r} -> {change.new!r}")
        if len(report.changes) > len(shown):
            print(f"  … and {len(report.changes) - len(shown)} more")


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
    print(
        f"Undid import #{result.import_id} ({result.file_name}): removed {result.events_removed} events and "
        f"{result.deals_removed} deals; restored {result.deals_restored} deals' attributes."
    )
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


def _filters(args: argparse.Namespace) -> Filters:
    """The Filters value the export options give (tracker.filters.FILTERS)."""
    try:
        return Filters(
            **{spec.field: spec.from_cli(getattr(args, spec.cli.dest)) for spec in FILTERS if spec.cli}
        )
    except InvalidValue as exc:
        raise UsageError(f"{exc.message}. {exc.fix}") from exc


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    """One option per filter that has one (tracker.filters.FILTERS)."""
    for spec in FILTERS:
        if spec.cli is None:
            continue
        parser.add_argument(
            spec.cli.flag,
            dest=spec.cli.dest,
            action="append" if spec.cli.repeatable else "store",
            choices=spec.cli.choices,
            help=spec.cli.help,
        )


def cmd_export(args: argparse.Namespace) -> int:
    engine = open_ledger(args.database)
    filters = _filters(args)
    rows = ledger_rows(engine, filters)
    if args.format == "xlsx":
        data = ledger_workbook(engine, filters, rows=rows)
    else:
        data = to_csv_bytes(rows)
    if args.output in (None, "-"):
        if args.format == "xlsx" and sys.stdout.isatty():
            raise UsageError("an XLSX workbook is binary; give --output FILE.xlsx")
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
    else:
        write_file(Path(args.output), data)
        print(f"{filters.caption()}: {len(rows)} rows written to {args.output}.", file=sys.stderr)
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


def cmd_hash_password(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not sys.stdin.isatty():
        # getpass would fall back to reading a line of the pipe, with a warning, and ask twice.
        raise UsageError(
            "there is no terminal to ask for the password; pipe it in with --password-stdin "
            f"(printf '%s' \"$PASSWORD\" | python -m tracker hash-password {args.username} --password-stdin)."
        )
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            raise UsageError("the two passwords differ; run the command again.")
    if len(password) < 10:
        raise UsageError("use a password of at least 10 characters.")
    print(f'{args.username} = "{hash_password(password)}"')
    print("Add that line under [editors] in .streamlit/secrets.toml.", file=sys.stderr)
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
