"""The model in use: the learned ranker the newest adopted retrain saved (see retrain.py)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from matcher import ranker as rk
from matcher._version import __version__ as matcher_version
from models import RankerRun
from models.enums import RankerRunState


def adopted() -> sa.Select:
    """The run whose model is in use: the newest adopted one (by when it finished)."""
    return (
        sa.select(RankerRun)
        .where(RankerRun.state == RankerRunState.DONE, RankerRun.adopted.is_(True))
        .order_by(RankerRun.finished_at.desc(), RankerRun.id.desc())
        .limit(1)
    )


def model_in_use(session: Session) -> RankerRun | None:
    """The newest adopted run (its model ranks every fit), or None: the weighted mean."""
    return session.scalar(adopted())


def adopted_ranker(session: Session) -> rk.LearnedRanker | None:
    """The model in use, loaded; None when there is none or it was saved by another matcher
    version (its components may differ: the next retrain learns a new one)."""
    run = model_in_use(session)
    if run is None or run.model is None or run.matcher_version != matcher_version:
        return None
    try:
        return rk.LearnedRanker.from_bytes(run.model)
    except ValueError:
        return None
