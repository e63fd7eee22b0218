"""Reading ids from forms, query strings and cursors without surprises.

``str.isdigit()`` accepts characters such as "²" that ``int()`` rejects, and has no upper bound;
either used to turn a typo into a 500. Ids here are positive and fit PostgreSQL's bigint, and at most 2**53 - 1: the largest integer every JSON
client (JavaScript's numbers, schemathesis' generator) reads exactly, so the bound published in the
OpenAPI description is the one enforced.
"""

from __future__ import annotations

MAX_ID = 2**53 - 1


def parse_id(raw: object) -> int | None:
    """A positive database id from user input, or None when it is not one."""
    text = str(raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
