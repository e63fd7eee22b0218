"""Rules an item follows from its arrival, written once for Python and for SQL.

The intake statement stores a whole batch in one round trip, so it must carry these rules in SQL;
each SQL form below is generated from the Python function over every combination of its inputs, and
tests/test_feedback_rules.py checks that the statement and the functions agree on every case.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from voice.feedback.models import Moderation

# An SLA day is 24 hours: the same in every time zone the database session may use.
SLA_DAY = timedelta(days=1)
_BOOLEANS = (True, False)


def moderation_on_arrival(publish: bool, review_first: bool) -> Moderation:
    """A published item of an agency that reviews first waits for it; anything else is visible."""
    return Moderation.PENDING if publish and review_first else Moderation.VISIBLE


def on_board(publish: bool, moderation: Moderation) -> bool:
    """Whether an item shows on the public board: its author agreed, and moderation lets it."""
    return publish and moderation is Moderation.VISIBLE


def public_on_arrival(publish: bool, review_first: bool) -> bool:
    return on_board(publish, moderation_on_arrival(publish, review_first))


def due_at(received: datetime, sla_days: int) -> datetime:
    """When the agency's answer is due: its SLA, counted from when the item was received."""
    return received + sla_days * SLA_DAY


# ----- the same rules as SQL, for the intake statement ------------------------------------------

def moderation_on_arrival_sql(publish: str, review_first: str) -> str:
    return _case(moderation_on_arrival, publish=(publish, _BOOLEANS), review_first=(review_first, _BOOLEANS))


def public_on_arrival_sql(publish: str, review_first: str) -> str:
    return _case(public_on_arrival, publish=(publish, _BOOLEANS), review_first=(review_first, _BOOLEANS))


def due_at_sql(received: str, sla_days: str) -> str:
    return f"({received} + {sla_days} * interval '{int(SLA_DAY.total_seconds())} seconds')"


def _case(rule: Callable[..., Any], **inputs: tuple[str, Sequence[Any]]) -> str:
    """A CASE with one branch per combination of the inputs' values, answering what ``rule`` answers.
    Inputs are SQL expressions (spliced, so only names from code) with their finite domains."""
    names = list(inputs)
    branches = []
    for values in itertools.product(*(domain for _sql, domain in inputs.values())):
        test = " AND ".join(_is(inputs[name][0], value) for name, value in zip(names, values, strict=True))
        branches.append(f"WHEN {test} THEN {_literal(rule(**dict(zip(names, values, strict=True))))}")
    return f"(CASE {' '.join(branches)} END)"


def _is(expression: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"({expression}) IS {'TRUE' if value else 'FALSE'}"
    return f"({expression}) = {_literal(value)}"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return f"'{value.value}'"  # enum members only: their values are constants of the code
