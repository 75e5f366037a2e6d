"""Removing old chart images and workbooks from the reports folder.

Every chart and workbook is written to its own file and uploaded to WeCom when the outbox
sends it. After that nothing reads it. A file is kept while a pending or sending outbox row
names it, however old it is, so a long WeCom outage loses no chart.
"""

import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.messages import OutboundMessage, OutboxStatus

log = logging.getLogger(__name__)


def _waiting_paths(session: Session) -> set[Path]:
    """Return the files that outbox rows not yet sent will upload."""
    payloads = session.scalars(
        select(OutboundMessage.payload).where(OutboundMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
    )
    return {Path(payload["path"]).resolve() for payload in payloads if payload.get("path")}


def remove_old_report_files(session: Session, folder: Path, older_than: datetime) -> int:
    """Delete the files under `folder` last changed before `older_than` that no unsent
    message names, and then the folders left empty. Return the number of files deleted."""
    if not folder.is_dir():
        return 0
    waiting = _waiting_paths(session)
    cutoff = older_than.timestamp()
    removed = 0
    for path in sorted(folder.rglob("*"), reverse=True):  # children before their folders
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.stat().st_mtime < cutoff and path.resolve() not in waiting:
            path.unlink()
            removed += 1
    log.info("old report files removed: folder=%s files=%d kept_for_outbox=%d", folder, removed, len(waiting))
    return removed
