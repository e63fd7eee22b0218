"""The account mails, each written once and sent in both languages through the outbox."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import User
from voice.i18n import _
from voice.labels import label
from voice.notifications.outbox import link, notify


def _link(path: str, token: str) -> str:
    return link(path + "?" + urlencode({"token": token}))


async def verification(session: AsyncSession, user: User, token: str) -> None:
    url = _link("/verify", token)
    await notify(session, user.email, subject=lambda: _("Confirm your e-mail address"), body=lambda: _(
        "To finish creating your Voice account, open this link within two days:\n%(url)s\n\n"
        "If you did not create an account, ignore this message.", url=url))


async def already_registered(session: AsyncSession, user: User) -> None:
    """Someone tried to sign up with an address that has an account: tell its owner, not the visitor."""
    url = link("/password/forgot")
    await notify(session, user.email, subject=lambda: _("Someone tried to create an account with your e-mail"),
                 body=lambda: _("Your e-mail address already has a Voice account. If it was you, sign in, or "
                                "choose a new password here:\n%(url)s\n\nIf it was not you, ignore this message: "
                                "nothing changed.", url=url))


async def password_reset(session: AsyncSession, user: User, token: str) -> None:
    url = _link("/password/reset", token)
    await notify(session, user.email, subject=lambda: _("Choose a new Voice password"), body=lambda: _(
        "Open this link within one hour to choose a new password:\n%(url)s\n\nIt works once. Choosing a new "
        "password signs you out everywhere. If you did not ask for this, ignore this message.", url=url))


async def invitation(session: AsyncSession, user: User, token: str, inviter: User) -> None:
    url = _link("/invitation", token)
    await notify(session, user.email, subject=lambda: _("You are invited to Voice"), body=lambda: _(
        "%(name)s invited you to Voice as %(role)s. Open this link within seven days to set your password "
        "(or sign in with the national single sign-on):\n%(url)s", name=inviter.full_name,
        role=label(user.role), url=url))
