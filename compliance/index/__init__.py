"""The dispatch index: which agency dispatch a page reproduces, copied or translated.

    from compliance.index import DispatchIndex, read_dispatches
    with DispatchIndex.open("dispatches.db", read_only=False) as index:
        index.add(d for d in read_dispatches(["afp.jsonl"], "afp") if isinstance(d, Dispatch))
    matches = DispatchIndex.open("dispatches.db").match(document)
"""

from .dispatch import Dispatch, RecordError, read_dispatches
from .match import THRESHOLD, AlignedPassage, DispatchMatch
from .store import AddResult, DispatchIndex, IndexFileError

__all__ = [
    "THRESHOLD",
    "AddResult",
    "AlignedPassage",
    "Dispatch",
    "DispatchIndex",
    "DispatchMatch",
    "IndexFileError",
    "RecordError",
    "read_dispatches",
]
