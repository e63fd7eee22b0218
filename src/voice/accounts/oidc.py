"""Sign-in through the national single sign-on, an OpenID Connect provider: the authorization code flow
with PKCE (S256), state and nonce checked, the ID token's signature, issuer, audience and lifetime
verified against the provider's published keys; then the person is linked to an account by subject,
national ID or verified e-mail (a citizen account is made for a newcomer).

authlib is the OAuth client (authorization URL, code exchange); joserfc verifies the ID token.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from voice.accounts.models import Role, User
from voice.accounts.security import UNUSABLE_PASSWORD
from voice.accounts.services import normalize_email
from voice.accounts.settings import OidcSettings
from voice.db import DomainService
from voice.errors import DomainError, ValidationFailed
from voice.i18n import _

_TIMEOUT = httpx.Timeout(10.0)
_NATIONAL_ID = re.compile(r"[12]\d{9}")


class SingleSignOnRefused(DomainError):
    """The provider's answer cannot be trusted or used (the message says why, in the visitor's language)."""

    status_code = 400


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


class OidcClient:
    """One provider, its discovery document and keys fetched on first use and kept for the process."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def _oauth(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(self.settings.client_id, self.settings.client_secret, scope=self.settings.scopes,
                                 redirect_uri=redirect_uri, code_challenge_method="S256", timeout=_TIMEOUT)

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            try:
                async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
                    answer = await http.get(self.settings.issuer + "/.well-known/openid-configuration")
                    answer.raise_for_status()
                    self._metadata = answer.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SingleSignOnRefused(_("The single sign-on service cannot be reached. Try again later.")) \
                    from exc
        return self._metadata

    async def authorization_request(self, redirect_uri: str) -> AuthorizationRequest:
        meta = await self.metadata()
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
        async with self._oauth(redirect_uri) as client:
            url, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier,
                                                         nonce=nonce)
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def claims(self, redirect_uri: str, params: dict[str, str], expected: dict[str, str]) -> dict[str, Any]:
        """The verified claims of the person the provider sent back, or a clear refusal."""
        state = params.get("state", "")
        if not expected.get("state") or not secrets.compare_digest(state, expected["state"]):
            raise SingleSignOnRefused(_("This sign-in answer does not match the sign-in you started (wrong "
                                        "state). Start again from the sign-in page."))
        if params.get("error") or not params.get("code"):
            raise SingleSignOnRefused(_("The single sign-on did not sign you in. Start again from the sign-in page."))
        meta = await self.metadata()
        try:
            async with self._oauth(redirect_uri) as client:
                token = await client.fetch_token(meta["token_endpoint"], grant_type="authorization_code",
                                                 code=params["code"], code_verifier=expected["code_verifier"])
        except Exception as exc:  # the provider refused the code (reused, expired) or is unreachable
            raise SingleSignOnRefused(_("The single sign-on did not confirm this sign-in. Start again from the "
                                        "sign-in page.")) from exc
        claims = await self._verified_id_token(str(token.get("id_token") or ""))
        if not expected.get("nonce") or not secrets.compare_digest(str(claims.get("nonce", "")), expected["nonce"]):
            raise SingleSignOnRefused(_("This sign-in answer was not made for this sign-in (wrong nonce). Start "
                                        "again from the sign-in page."))
        return claims

    async def _verified_id_token(self, id_token: str) -> dict[str, Any]:
        meta = await self.metadata()
        try:
            if self._keys is None:
                async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
                    self._keys = KeySet.import_key_set((await http.get(meta["jwks_uri"])).json())
            decoded = jwt.decode(id_token, self._keys, algorithms=["RS256", "ES256", "PS256"])
            jwt.JWTClaimsRegistry(
                now=int(time.time()), leeway=60, iss={"essential": True, "value": meta.get("issuer")},
                aud={"essential": True, "value": self.settings.client_id}, exp={"essential": True},
                sub={"essential": True}).validate(decoded.claims)
        except (JoseError, ValueError, KeyError, httpx.HTTPError) as exc:
            raise SingleSignOnRefused(_("The single sign-on's answer could not be verified. Start again from the "
                                        "sign-in page.")) from exc
        return dict(decoded.claims)


class SingleSignOnService(DomainService[User]):
    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo

    async def account_for(self, claims: dict[str, Any], settings: OidcSettings) -> User:
        """The account these verified claims belong to: by subject, then national ID, then a verified
        e-mail; a newcomer gets a citizen account. An inactive account is refused."""
        subject = str(claims["sub"])[:255]
        national_id = str(claims.get(settings.national_id_claim) or "").strip()
        national_id = national_id if _NATIONAL_ID.fullmatch(national_id) else ""
        email = ""
        if claims.get("email") and claims.get("email_verified") is True:
            try:
                email = normalize_email(str(claims["email"]))
            except ValidationFailed:
                email = ""
        user = await self.session.scalar(select(User).where(User.oidc_subject == subject))
        if user is None and national_id:
            user = await self.session.scalar(select(User).where(User.national_id == national_id))
        if user is None and email:
            user = await self.session.scalar(select(User).where(User.email == email))
        if user is None:
            if not email:
                raise SingleSignOnRefused(_("The single sign-on did not share a verified e-mail address, so no "
                                            "account can be made. Ask the service desk for help."))
            name = " ".join(str(claims.get(settings.name_claim) or "").split())[:200] or email.split("@")[0]
            user = User(email=email, password_hash=UNUSABLE_PASSWORD, full_name=name, role=Role.CITIZEN, is_active=True,
                        email_verified_at=datetime.now(UTC))
            self.session.add(user)
        if not user.is_active:
            raise SingleSignOnRefused(_("This account is deactivated. Ask your administrator."))
        user.oidc_subject = user.oidc_subject or subject
        if national_id and not user.national_id:
            taken = await self.session.scalar(select(User.id).where(User.national_id == national_id))
            user.national_id = national_id if taken is None else None
        if email and user.email == email and user.email_verified_at is None:
            user.email_verified_at = datetime.now(UTC)
        await self.session.flush()
        return user
