"""The audit store (DESIGN §7): SQLite by default, PostgreSQL by URL, one data layer.

It remembers pages (URL, sha256, capture time), findings with their
lifecycle and history, and the evidence captures behind them, so that cron
audits are incremental, idempotent and can say what is new since the last run.
"""

from .lifecycle import CURRENT, STATUSES
from .lock import StoreError, StoreLocked
from .store import (
    AuditRun,
    EvidenceRef,
    FindingRow,
    PageObservation,
    PageRow,
    Store,
    default_db_path,
)

__all__ = [
    "CURRENT",
    "STATUSES",
    "AuditRun",
    "EvidenceRef",
    "FindingRow",
    "PageObservation",
    "PageRow",
    "Store",
    "StoreError",
    "StoreLocked",
    "default_db_path",
]
