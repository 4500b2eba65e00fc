"""Saved views: the sidebar's filters under a name, kept in the ledger, with the changes since each was
last opened (tracker.changes).

The caller says who the editor is and checks the editor's rights where it writes (the dashboard:
tracker.views.saved); refusals raise ViewNotSaved with what to do instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from tracker.changes import digest
from tracker.db import write_transaction
from tracker.errors import ViewNotSaved
from tracker.filters import Filters, to_query, view_from_query
from tracker.importer.undo import safe_editor
from tracker.models import SavedView
from tracker.queries import filter_options
from tracker.staleness import StageThresholds

NAME_LENGTH = 100
# Changes are counted from when a view was created when no editor has opened it since.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class View:
    id: int
    name: str
    query: str
    created_by: str
    created_at: dt.datetime
    last_opened_at: dt.datetime | None

    @property
    def seen_at(self) -> dt.datetime:
        """Since when its changes are new: when it was last opened, else when it was saved."""
        return self.last_opened_at or self.created_at


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def save_view(
    engine: Engine, name: str, filters: Filters, *, editor: str, now: dt.datetime | None = None
) -> View:
    """Save `filters` under `name` (control characters removed, trimmed); ViewNotSaved for an empty, too
    long or taken name."""
    cleaned = _CONTROL.sub("", name).strip()
    if not cleaned:
        raise ViewNotSaved("give the view a name, e.g. “Ukraine air defence”.")
    if len(cleaned) > NAME_LENGTH:
        raise ViewNotSaved(f"the name is {len(cleaned)} characters long; use at most {NAME_LENGTH}.")
    moment = now or _now()
    query = to_query(filters, filter_options(engine))
    with write_transaction(engine) as connection:
        taken = connection.execute(select(SavedView.id).where(SavedView.name == cleaned)).scalar()
        if taken is not None:
            raise ViewNotSaved(f"a view is called “{cleaned}” already; choose another name.")
        view_id = connection.execute(
            insert(SavedView.__table__)
            .values(name=cleaned, query=query, created_by=safe_editor(editor), created_at=moment)
            .returning(SavedView.id)
        ).scalar_one()
    return View(view_id, cleaned, query, safe_editor(editor), moment, None)


def saved_views(engine: Engine) -> list[View]:
    """Every saved view, by name."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                SavedView.id, SavedView.name, SavedView.query, SavedView.created_by, SavedView.created_at,
                SavedView.last_opened_at,
            ).order_by(SavedView.name, SavedView.id)
        ).all()  # fmt: skip
    return [View(*row) for row in rows]


def find_view(engine: Engine, view_id: int) -> View | None:
    return next((view for view in saved_views(engine) if view.id == view_id), None)


def mark_opened(engine: Engine, view_id: int, *, now: dt.datetime | None = None) -> None:
    """Record that an editor opened the view now: its changes are counted from here on."""
    with write_transaction(engine) as connection:
        connection.execute(
            update(SavedView.__table__).where(SavedView.id == view_id).values(last_opened_at=now or _now())
        )


def view_filters(engine: Engine, view: View, *, today: dt.date | None = None) -> Filters:
    """The filters of the view, read from its query as the sidebar reads a URL on this ledger."""
    return view_from_query(view.query, filter_options(engine), today=today or dt.date.today()).filters


def changes_since_seen(
    engine: Engine, view: View, *, now: dt.datetime | None = None, thresholds: StageThresholds | None = None
) -> int:
    """How many changes the view's deals have had since it was last opened (or saved); `thresholds` as
    `tracker.changes.digest` takes them."""
    # Recorded times are whole seconds: the changes of this very second count too.
    until = (now or _now()) + dt.timedelta(seconds=1)
    filters = view_filters(engine, view, today=until.date())
    return len(
        digest(engine, since=view.seen_at, until=until, filters=filters, thresholds=thresholds).changes
    )
