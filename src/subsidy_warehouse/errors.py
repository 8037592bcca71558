"""Errors a user can act on. Their message is one sentence, shown without a traceback."""


class UserFacingError(Exception):
    """Something the user can fix (a path, a file, an option); the CLI prints the message and exits 2."""
