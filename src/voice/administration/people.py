"""People as administrators manage them: invitations, roles and agency membership, deactivation,
unlocking, forced password resets, revoking API tokens and resetting two-factor sign-in. Platform
administrators manage everyone; agency administrators their own agency's staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, or_, select

from voice.accounts import lockout
from voice.accounts.models import Role, TokenPurpose, User
from voice.accounts.onetime import AccountTokenService
from voice.accounts.security import UNUSABLE_PASSWORD
from voice.accounts.services import TokenService, UserService, audit, clean_full_name
from voice.accounts.twofactor import TwoFactorService
from voice.administration import mails
from voice.administration.scope import may_manage_agency, require_administrator
from voice.catalogue.models import Agency
from voice.db import DomainService
from voice.errors import Conflict, Forbidden, NotFound, ValidationFailed
from voice.i18n import _

ACTIONS = ("deactivate", "reactivate", "unlock", "reset_password", "revoke_tokens", "reset_two_factor")


@dataclass
class Invitation:
    email: str
    role: str
    agency: str = ""
    full_name: str = ""


class PeopleService(DomainService[User]):
    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo

    # ----- reading ---------------------------------------------------------------------------

    async def people(self, actor: User, agency: str = "", role: str = "", q: str = "") -> list[User]:
        require_administrator(actor)
        stmt = select(User).where(User.erased_at.is_(None)).order_by(User.role, User.email).limit(500)
        if not actor.is_admin:
            stmt = stmt.where(User.agency_id == actor.agency_id)
        if agency:
            stmt = stmt.join(Agency, Agency.id == User.agency_id).where(Agency.slug == agency[:64])
        if role in {r.value for r in Role}:
            stmt = stmt.where(User.role == Role(role))
        if q.strip():
            like = "%" + q.strip()[:100].replace("%", r"\%").replace("_", r"\_") + "%"
            stmt = stmt.where(or_(User.email.ilike(like), User.full_name.ilike(like)))
        return list((await self.session.scalars(stmt)).all())

    async def person(self, actor: User, user_id: int) -> User:
        require_administrator(actor)
        user = await self.session.get(User, user_id)
        if user is None or user.erased_at is not None or not (actor.is_admin or (
                user.agency_id is not None and user.agency_id == actor.agency_id)):
            raise NotFound(_("No such person."))
        return user

    async def _agency(self, actor: User, role: Role, slug: str) -> Agency | None:
        if not role.is_agency:
            return None
        if not slug:
            raise ValidationFailed(_("Agency staff must belong to an agency."), field="agency")
        agency = await self.session.scalar(select(Agency).where(Agency.slug == slug.strip()[:64]))
        if agency is None or not may_manage_agency(actor, agency):
            raise ValidationFailed(_("Choose an agency."), field="agency")
        return agency

    def _check_role_allowed(self, actor: User, role: Role) -> None:
        if not actor.is_admin and not role.is_agency:
            raise Forbidden(_("Agency administrators can give only agency roles."))

    async def _check_keeps_an_admin(self, user: User, new_role: Role | None = None, active: bool = True) -> None:
        if user.role is not Role.ADMIN or (new_role is Role.ADMIN and active):
            return
        others = await self.session.scalar(select(func.count()).select_from(User).where(
            User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id))
        if not others:
            raise Conflict(_("This is the last platform administrator: make someone else an administrator first."))

    # ----- changes ---------------------------------------------------------------------------

    async def invite(self, actor: User, invitation: Invitation) -> User:
        require_administrator(actor)
        try:
            role = Role(invitation.role)
        except ValueError as exc:
            raise ValidationFailed(_("Choose a role."), field="role") from exc
        self._check_role_allowed(actor, role)
        agency = await self._agency(actor, role, invitation.agency)
        name = clean_full_name(invitation.full_name) if invitation.full_name.strip() else None
        user = await UserService(session=self.session).create_user(
            email=invitation.email, password=None, role=role, full_name=name, agency=agency, verified=False)
        token = await AccountTokenService(session=self.session).issue(user, TokenPurpose.INVITATION)
        await mails.invitation(self.session, user, token, actor)
        await audit(self.session, "user.invite", actor=actor, target_type="user", target_id=user.id,
                    agency_id=user.agency_id, email=user.email, role=role.value)
        return user

    async def change_role(self, actor: User, user_id: int, role_value: str, agency_slug: str = "") -> User:
        user = await self.person(actor, user_id)
        try:
            role = Role(role_value)
        except ValueError as exc:
            raise ValidationFailed(_("Choose a role."), field="role") from exc
        self._check_role_allowed(actor, role)
        agency = await self._agency(actor, role, agency_slug)
        await self._check_keeps_an_admin(user, role)
        before = (user.role.value, user.agency_id)
        user.role, user.agency_id = role, agency.id if agency else None
        user.session_epoch += 1  # new rights from the next sign-in (and a second factor if now required)
        await audit(self.session, "user.role", actor=actor, target_type="user", target_id=user.id,
                    agency_id=user.agency_id, before=list(before), role=role.value)
        return user

    async def act(self, actor: User, user_id: int, action: str) -> User:
        """One of ACTIONS on a person."""
        user = await self.person(actor, user_id)
        if action not in ACTIONS:
            raise NotFound(_("Unknown action."))
        detail: dict[str, Any] = {}
        if action == "deactivate":
            if user.id == actor.id:
                raise Conflict(_("You cannot deactivate your own account."))
            await self._check_keeps_an_admin(user, active=False)
            user.is_active = False
            user.session_epoch += 1
            detail["tokens"] = await TokenService(session=self.session).revoke_all(user)
        elif action == "reactivate":
            user.is_active = True
        elif action == "unlock":
            await lockout.clear(self.session, lockout.account_key(user.email))
            await lockout.clear(self.session, lockout.second_factor_key(user.id))
        elif action == "reset_password":
            user.password_hash = UNUSABLE_PASSWORD
            user.session_epoch += 1
            token = await AccountTokenService(session=self.session).issue(user, TokenPurpose.PASSWORD_RESET)
            await mails.password_reset(self.session, user, token)
        elif action == "revoke_tokens":
            detail["tokens"] = await TokenService(session=self.session).revoke_all(user)
        elif action == "reset_two_factor":
            await TwoFactorService(session=self.session).turn_off(user)
        await audit(self.session, f"user.{action}", actor=actor, target_type="user", target_id=user.id,
                    agency_id=user.agency_id, **detail)
        return user
