"""How many rows of a frame the Great Expectations suites validate at a time: here, so that a wrong setting fails
before an audit starts, without importing Great Expectations (seconds) first."""

from __future__ import annotations

import os

from ..errors import UserFacingError

CHUNK_ROWS = 500_000  # rows of a frame validated at a time (SUBSIDY_AUDIT_CHUNK_ROWS overrides)


def chunk_rows() -> int:
    text = os.environ.get("SUBSIDY_AUDIT_CHUNK_ROWS", "").strip()
    if not text:
        return CHUNK_ROWS
    if not text.isdigit() or int(text) == 0:
        raise UserFacingError(f"SUBSIDY_AUDIT_CHUNK_ROWS must be a whole number of rows above 0, not {text!r}.")
    return int(text)
