"""The accounts component's settings section: two-factor policy and the national single sign-on
(an OpenID Connect provider), read once from the environment at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass

from voice.settings import env_flag


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid email profile"
    # Claim names differ between providers; the national ID links an account without an e-mail match.
    national_id_claim: str = "national_id"
    name_claim: str = "name"
    # When on, staff, administrators and judges may sign in only through the single sign-on.
    only_for_staff: bool = False


@dataclass(frozen=True)
class AccountsSettings:
    # Staff, agency admins, platform admins and judges must sign in with a second factor.
    two_factor_required: bool = True
    oidc: OidcSettings | None = None

    @classmethod
    def from_env(cls) -> AccountsSettings:
        issuer = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
        oidc = None
        if issuer:
            oidc = OidcSettings(
                issuer=issuer,
                client_id=os.environ.get("OIDC_CLIENT_ID", ""),
                client_secret=os.environ.get("OIDC_CLIENT_SECRET", ""),
                scopes=os.environ.get("OIDC_SCOPES") or "openid email profile",
                national_id_claim=os.environ.get("OIDC_NATIONAL_ID_CLAIM") or "national_id",
                name_claim=os.environ.get("OIDC_NAME_CLAIM") or "name",
                only_for_staff=env_flag("OIDC_ONLY_FOR_STAFF", False),
            )
        return cls(two_factor_required=env_flag("VOICE_REQUIRE_TWO_FACTOR", True), oidc=oidc)
