"""Sign-in back-off per account *and* client: each client that fails on an account waits longer after
every failure (exponential), while the owner signing in from another device is not slowed at all, so
nobody can lock anyone out. E-mails without an account are counted the same way, so the answers
(401, then 429 with Retry-After) never tell whether an account exists. Second-factor codes use the
same counters under their own key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import SignInFailure
from voice.errors import TooManyRequests
from voice.i18n import ngettext

# Failures allowed before any wait: typing mistakes happen.
FREE_FAILURES = 3
# After that, 2, 4, 8 … seconds, up to 15 minutes.
MAX_WAIT = timedelta(minutes=15)


def wait_after(failures: int) -> timedelta:
    """How long a client waits after its ``failures``-th failure on one account."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(MAX_WAIT, timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20)))


def account_key(email: str) -> str:
    return "email:" + email.strip().lower()[:254]


def second_factor_key(user_id: int) -> str:
    return f"totp:{user_id}"


async def check(session: AsyncSession, account: str, client: str) -> None:
    """Refuse (429, with the seconds to wait) while this client must wait on this account."""
    blocked = await session.scalar(select(SignInFailure.blocked_until).where(
        SignInFailure.account == account, SignInFailure.client == client[:64]))
    now = datetime.now(UTC)
    if blocked is not None and blocked > now:
        seconds = max(1, int((blocked - now).total_seconds() + 0.999))
        refused = TooManyRequests(ngettext("Too many attempts. Try again in %(num)s second.",
                                           "Too many attempts. Try again in %(num)s seconds.", seconds))
        refused.retry_after = seconds  # type: ignore[attr-defined]
        raise refused


async def record_failure(session: AsyncSession, account: str, client: str) -> None:
    """Count a failure in its own statement, so it stays counted although the request answers an error."""
    now = datetime.now(UTC)
    row = (await session.execute(insert(SignInFailure).values(
        account=account, client=client[:64], failures=1, created_at=now, updated_at=now)
        .on_conflict_do_update(constraint="uq_sign_in_failure_account_client",
                               set_={"failures": SignInFailure.failures + 1, "updated_at": now})
        .returning(SignInFailure.id, SignInFailure.failures))).one()
    wait = wait_after(row.failures)
    if wait:
        await session.execute(SignInFailure.__table__.update().where(SignInFailure.id == row.id)
                              .values(blocked_until=now + wait))


async def clear(session: AsyncSession, account: str, client: str | None = None) -> None:
    """Forget the failures on an account: of one client (after it succeeds) or of all (an unlock)."""
    stmt = delete(SignInFailure).where(SignInFailure.account == account)
    if client is not None:
        stmt = stmt.where(SignInFailure.client == client[:64])
    await session.execute(stmt)
