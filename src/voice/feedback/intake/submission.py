"""What someone sends (from a form, JSON or Open311) and every check on it that needs no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from voice.accounts.models import SubmitterKind, User
from voice.accounts.services import ascii_digits
from voice.errors import ValidationFailed
from voice.feedback.models import Channel, FeedbackKind
from voice.i18n import _
from voice.text import clean_body, public_text

# The ratings people give (worst to best).
RATINGS = range(1, 6)


@dataclass
class Submission:
    """What someone sends, as raw strings from a form, JSON or Open311 — checked by ``validate``."""

    agency: str
    body: str
    kind: str = FeedbackKind.COMPLAINT
    submitter_kind: str = SubmitterKind.INDIVIDUAL
    service: str | None = None
    rating: Any = None
    contact_email: str | None = None
    publish: bool = False
    channel: Channel = Channel.WEB
    language: str = "ar"


@dataclass(frozen=True)
class Intake:
    """A submission that passed every check that needs no database (the agency and the service are
    checked by the statement that stores it)."""

    agency: str
    service: str | None
    kind: FeedbackKind
    submitter_kind: SubmitterKind
    channel: Channel
    body: str
    body_public: str
    search_text: str  # what public search indexes (the public text); the column stores its search terms
    rating: int | None
    contact_email: str | None
    publish: bool
    language: str


def validate(sub: Submission, user: User | None) -> Intake:
    """The submission checked and in its stored forms (public text, search text), or every error at once."""
    errors: dict[str, str] = {}
    agency = (sub.agency or "").strip()
    if not agency:
        errors["agency"] = _("Choose the agency the service belongs to.")
    try:
        kind = FeedbackKind(sub.kind)
    except ValueError:
        errors["kind"] = _("Choose a kind: complaint, suggestion, praise or question.")
    try:
        submitter_kind = SubmitterKind(sub.submitter_kind)
    except ValueError:
        errors["submitter_kind"] = _("Choose whether you write as an individual, a business or a government entity.")
    rating = parse_rating(sub.rating, errors, "rating")
    body = ""
    try:
        body = clean_body(sub.body)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    email = None
    if sub.contact_email and sub.contact_email.strip():
        try:
            email = validate_email(sub.contact_email.strip(), check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["contact_email"] = _("Enter a valid e-mail address, or leave it empty.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors=errors)
    public = public_text(body)
    return Intake(
        agency=agency, service=(sub.service or "").strip() or None, kind=kind, submitter_kind=submitter_kind,
        channel=sub.channel, body=body, body_public=public, search_text=public, rating=rating,
        contact_email=email or (user.email if user else None), publish=bool(sub.publish),
        language=sub.language if sub.language in ("ar", "en") else "ar")


def parse_rating(value: Any, errors: dict[str, str], name: str) -> int | None:
    """A 1–5 rating as people send it (a number, or text in either digit set); None when not given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors[name] = _("Choose a rating from 1 to 5.")
        return None
    try:
        number = int(ascii_digits(str(value)).strip())
    except (TypeError, ValueError):
        errors[name] = _("Choose a rating from 1 to 5.")
        return None
    if number not in RATINGS or (isinstance(value, float) and not value.is_integer()):
        errors[name] = _("Choose a rating from 1 to 5.")
        return None
    return number
