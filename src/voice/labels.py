"""Display names for the domain's coded values (roles, kinds, statuses), in the current language."""

from __future__ import annotations

from voice.i18n import gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (translated when shown)."""
    return message


LABELS: dict[str, str] = {
    # roles
    "citizen": N_("Citizen"),
    "agency_staff": N_("Agency staff"),
    "agency_admin": N_("Agency administrator"),
    "judge": N_("Judge"),
    "admin": N_("Platform administrator"),
    # submitter kinds
    "individual": N_("Individual"),
    "business": N_("Business"),
    "government": N_("Government entity"),
    # feedback kinds
    "complaint": N_("Complaint"),
    "suggestion": N_("Suggestion"),
    "praise": N_("Praise"),
    "question": N_("Question"),
    # feedback statuses
    "received": N_("Received"),
    "in_review": N_("In review"),
    "in_progress": N_("In progress"),
    "resolved": N_("Resolved"),
    "declined": N_("Declined"),
    # channels
    "web": N_("Web"),
    "api": N_("API"),
    "open311": N_("Open311"),
    "mobile": N_("Mobile app"),
    # history events
    "created": N_("Received"),
    "answer": N_("Answered"),
    "status": N_("Status changed"),
    "moderation": N_("Moderation"),
    "transfer": N_("Transferred"),
    "note": N_("Internal note"),
}


def label(value: object) -> str:
    """The translated label of a coded value (an enum member or its string); unknown codes as is."""
    code = getattr(value, "value", value)
    msgid = LABELS.get(str(code))
    return gettext(msgid) if msgid else str(code)
