"""Errors a user can act on. Their message is one sentence, shown without a traceback."""

import re

# C0 and C1 controls (ESC starts a terminal escape code, BEL ends one), DEL, and the bidirectional overrides that
# reorder what a terminal shows: none of them has a place in a one-sentence message
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MAX_QUOTED_CHARS = 80


class UserFacingError(Exception):
    """Something the user can fix (a path, a file, an option); the CLI prints the message and exits 2."""


def printable(message: str) -> str:
    """`message` as a terminal may show it: control characters dropped, resident ID numbers masked."""
    from .identifiers import mask_personal_ids  # stdnum is imported only when a message is shown

    return mask_personal_ids(CONTROL_CHARACTERS.sub("", message))


def quoted(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """Content of a file as a message quotes it: printable, and at most `limit` characters (masked before it is
    cut, so that a cut never leaves the start of an ID number in clear)."""
    shown = printable(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
