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
    # idea statuses ("declined" is shared with feedback) and categories
    "submitted": N_("Submitted"),
    "under_review": N_("Under review"),
    "accepted_for_evaluation": N_("Accepted for evaluation"),
    "shortlisted": N_("Shortlisted"),
    "winner": N_("Winner"),
    "withdrawn": N_("Withdrawn by its author"),
    "edited": N_("Edited by its author"),
    "adopted": N_("Adopted"),
    "implemented": N_("Implemented"),
    "digital_services": N_("Digital services"),
    "accessibility": N_("Accessibility"),
    "transparency": N_("Transparency"),
    "efficiency": N_("Efficiency"),
    "integration": N_("Integration between agencies"),
    "other": N_("Other"),
    # channels
    "web": N_("Web"),
    "api": N_("API"),
    "open311": N_("Open311"),
    "mobile": N_("Mobile app"),
    "both": N_("Web and mobile"),
    "counter": N_("Service counter"),
    # history events
    "created": N_("Received"),
    "answer": N_("Answered"),
    "status": N_("Status changed"),
    "moderation": N_("Moderation"),
    "transfer": N_("Transferred"),
    "note": N_("Internal note"),
    "reply": N_("Reply from the person who wrote"),
    "reopened": N_("Reopened: not fixed"),
    "confirmed": N_("Confirmed fixed"),
    # improvements
    "service": N_("Service"),
    "policy": N_("Policy"),
    "regulation": N_("Regulation"),
    "process": N_("Process"),
    "planned": N_("Planned"),
    "delivered": N_("Delivered"),
    # theme run stages
    "load": N_("loading"),
    "normalize": N_("normalizing"),
    "vectorize": N_("representing"),
    "embed": N_("reading meanings"),
    "cluster": N_("clustering"),
    "label": N_("labelling"),
    "done": N_("done"),
    # theme run statuses
    "queued": N_("waiting to start"),
    "running": N_("running"),
    "succeeded": N_("finished"),
    "failed": N_("failed"),
    # award editions
    "draft": N_("Draft"),
    "open_for_entries": N_("Open for entries"),
    "judging": N_("Judging"),
    "results_published": N_("Results published"),
    # award branches
    "g2c": N_("Service to individuals (G2C)"),
    "g2b": N_("Strengthening the national economy (G2B)"),
    "g2g": N_("Integration between government agencies (G2G)"),
    "e_leadership": N_("E-leadership"),
    "e_participation": N_("E-community participation (voice of the beneficiary)"),
    "smart_devices": N_("E-services on smart devices"),
    "e_contribution": N_("E-contribution (individuals)"),
    "custom": N_("Added branch"),
    # consultations: statuses and phases, stances, decisions in the response report
    "published": N_("Published"),
    "closed": N_("Closed"),
    "upcoming": N_("Opens soon"),
    "open": N_("Open for comments"),
    "ended": N_("Comment period over"),
    "reported": N_("Response published"),
    "support": N_("Support"),
    "oppose": N_("Oppose"),
    "suggest": N_("Suggest a change"),
    "kept": N_("Kept"),
    "amended": N_("Amended"),
    "removed": N_("Removed"),
    "added": N_("Added"),
}


def label(value: object) -> str:
    """The translated label of a coded value (an enum member or its string); unknown codes as is."""
    code = getattr(value, "value", value)
    msgid = LABELS.get(str(code))
    return gettext(msgid) if msgid else str(code)
