"""What an import did (or, as a dry run, would do), built from its plan; and what an undo did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from tracker.display import counted
from tracker.importer.plan import Plan


@dataclass(frozen=True, slots=True)
class DealChangeRow:
    deal_id: str
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class StageMove:
    """A deal of the ledger whose current stage the import moves (None: no stage yet)."""

    deal_id: str
    title: str
    before: str | None
    after: str | None


# New events a report lists (the Upload page's preview table), the first in file order; its figures count
# them all. Listing every one sent a 49.5 MB SIPRI export's 1,374,896 new events from the worker to the
# dashboard, which held them in the editor's session for a table nobody scrolls to its end (+135 MB).
PREVIEW_EVENTS = 1_000


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did, or (dry run) would do. `new_events` lists the first PREVIEW_EVENTS of the
    `events_added` new events; a dry run's `stage_moves` the first PREVIEW_EVENTS of the `stages_moved`
    deals of the ledger whose current stage it would move (after an import, the Changes page lists them)."""

    file_name: str
    sha256: str
    format: str
    encoding: str
    rows_read: int
    dry_run: bool
    import_id: int | None = None
    snapshot_on: dt.date | None = None
    deals_created: list[str] = field(default_factory=list)
    deals_updated: list[str] = field(default_factory=list)
    events_added: int = 0
    sources_added: int = 0
    parties_added: int = 0
    links_added: int = 0
    roles_added: int = 0
    signposts_added: int = 0
    duplicates_skipped: int = 0
    changes: list[DealChangeRow] = field(default_factory=list)
    new_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    stage_moves: list[StageMove] = field(default_factory=list)
    stages_moved: int = 0
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_plan(
        cls,
        plan: Plan,
        *,
        file_name: str,
        sha256: str,
        encoding: str,
        dry_run: bool,
        import_id: int | None = None,
        stage_moves: list[StageMove] | None = None,
    ) -> ImportReport:
        changes = plan.changes
        moves = stage_moves or []
        return cls(
            file_name=file_name,
            sha256=sha256,
            format=plan.batch.format,
            encoding=encoding,
            rows_read=plan.batch.rows_read,
            dry_run=dry_run,
            import_id=import_id,
            snapshot_on=plan.batch.snapshot_on,
            deals_created=plan.deals_created,
            deals_updated=plan.deals_updated,
            events_added=len(plan.new_events),
            sources_added=len(plan.new_sources),
            parties_added=len(plan.new_parties),
            links_added=len(plan.new_links),
            roles_added=len(plan.new_roles),
            signposts_added=len(plan.new_signposts),
            duplicates_skipped=plan.duplicates_skipped,
            changes=[
                DealChangeRow(deal_id, field_name, old, new)
                for deal_id, field_name, old, new in zip(
                    changes["deal_id"], changes["field"], changes["old_value"], changes["new_value"]
                )
            ],
            # A copy: the first rows as a slice would keep every new event's columns alive.
            new_events=plan.new_events[["line", "deal_id", "date_text", "stage", "summary"]]
            .head(PREVIEW_EVENTS)
            .reset_index(drop=True)
            .copy(),
            stage_moves=moves[:PREVIEW_EVENTS],
            stages_moved=len(moves),
            warnings=plan.warnings,
        )

    @property
    def nothing_new(self) -> bool:
        return not (
            self.deals_created
            or self.deals_updated
            or self.events_added
            or self.sources_added
            or self.parties_added
            or self.links_added
            or self.roles_added
            or self.signposts_added
            or self.changes
        )

    def describe(self) -> str:
        """One line for the CLI and the upload page."""
        verb = "would add" if self.dry_run else "added"
        if self.nothing_new:
            already = "its one row is" if self.rows_read == 1 else f"all {self.rows_read:,} rows are"
            return f"{self.file_name}: nothing new; {already} already in the ledger."
        head = f"Import #{self.import_id}: " if self.import_id else ""
        return (
            f"{head}{self.file_name}: {counted(self.rows_read, 'row')} read; {verb} "
            f"{counted(self.events_added, 'event')}, {counted(len(self.deals_created), 'new deal')}, "
            f"{counted(len(self.deals_updated), 'deal')} updated, {counted(self.sources_added, 'source')}, "
            f"{counted(self.parties_added, 'party', 'parties')}; "
            f"{counted(self.duplicates_skipped, 'row')} already in the ledger (skipped)."
        )


@dataclass(frozen=True, slots=True)
class UndoReport:
    import_id: int
    file_name: str
    events_removed: int
    deals_removed: int
    deals_restored: int

    def describe(self) -> str:
        """One line for the CLI and the upload page."""
        return (
            f"Undid import #{self.import_id} ({self.file_name}): removed "
            f"{counted(self.events_removed, 'event')} and {counted(self.deals_removed, 'deal')}; "
            f"restored the attributes of {counted(self.deals_restored, 'deal')}."
        )


@dataclass(frozen=True, slots=True)
class UndoPreview:
    """What undoing an import would do, for the confirmation the analyst is asked for."""

    import_id: int
    file_name: str
    editor: str
    committed_at: dt.datetime
    rows_read: int
    events_removed: int
    deals_removed: int
    sources_removed: int
    deals_restored: int

    def describe(self) -> str:
        """One sentence: what goes and what comes back."""
        return (
            f"Undoing import #{self.import_id} ({self.file_name}, {counted(self.rows_read, 'row')}, "
            f"committed {self.committed_at:%Y-%m-%d %H:%M} UTC by {self.editor}) removes "
            f"{counted(self.events_removed, 'event')}, {counted(self.deals_removed, 'deal')} and "
            f"{counted(self.sources_removed, 'source')}, and restores the attributes of "
            f"{counted(self.deals_restored, 'deal')}."
        )
