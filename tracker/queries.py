"""Read-side queries: every figure and table the dashboard and the CLI show comes from here.

Aggregation happens in SQL; functions return small pandas DataFrames ready to render.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select

from tracker.models import Deal, Event, EventSource, Import, Party, Source, StageRow


def _frame(engine: Engine, statement) -> pd.DataFrame:  # noqa: ANN001 - any SQLAlchemy Select
    with engine.connect() as connection:
        result = connection.execute(statement)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def ledger_counts(engine: Engine) -> dict[str, int]:
    """How many deals, events, sources, parties and committed imports the ledger holds."""
    with engine.connect() as connection:
        return {
            name: int(connection.execute(select(func.count()).select_from(model)).scalar_one())
            for name, model in (("deals", Deal), ("events", Event), ("sources", Source), ("parties", Party),
                                ("source links", EventSource))
        } | {"imports": int(connection.execute(
            select(func.count()).select_from(Import).where(Import.status == "committed")).scalar_one())}


def deals_by_stage(engine: Engine) -> pd.DataFrame:
    """Every stage in order with its number of deals (zero included), plus deals with no stage yet."""
    statement = (
        select(StageRow.name.label("stage"), func.count(Deal.id).label("deals"))
        .select_from(StageRow)
        .outerjoin(Deal, Deal.current_stage == StageRow.name)
        .group_by(StageRow.name, StageRow.position)
        .order_by(StageRow.position)
    )
    return _frame(engine, statement)


def import_history(engine: Engine) -> pd.DataFrame:
    statement = select(
        Import.id, Import.file_name, Import.format, Import.editor, Import.committed_at, Import.rows_read,
        Import.events_added, Import.deals_created, Import.deals_updated, Import.duplicates_skipped, Import.status,
        Import.undone_at, Import.undone_by,
    ).order_by(Import.id.desc())
    return _frame(engine, statement)
