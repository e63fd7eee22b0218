"""The public-text mechanism (``voice.db.PublicText``): every text column is declared public (stored
redacted, whoever writes it and however) or not public; writes through the ORM, Core statements and the
raw intake statement all store the redacted form; redaction is idempotent, so re-saving changes nothing."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Enum, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import voice.models  # noqa: F401  (every table registered)
from tests.factories import make_agency, make_user
from tests.nlp.test_redact import GENERATORS, SENTENCES, gen_name
from voice.accounts.models import Role
from voice.db import PublicSearchText, PublicText, metadata
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import Feedback
from voice.text import public_text
from voice.workspace.models import Improvement

# Text columns that never reach a public surface, and why. A text column that is neither PublicText nor
# listed here fails the test below: whoever adds one decides, and a public one is redacted by its type.
NOT_PUBLIC = {
    # originals, shown only to the responsible agency (their public form is a PublicText column)
    "feedback.body", "feedback.contact_email", "idea.description", "idea.problem", "idea_comment.body",
    "consultation_comment.body",
    # moderation and internal records (moderators, staff, the audit view)
    "feedback_report.reason", "consultation_report.reason", "feedback_report.device", "feedback_support.device", "feedback_transfer.reason",
    "idea_report.reason", "audit_event.action", "audit_event.target_type", "audit_event.target_id",
    "audit_event.ip", "sign_in_failure.account", "sign_in_failure.client", "theme_run.stage",
    "theme_run.error", "notification.to_address", "notification.subject", "notification.body",
    "notification.last_error", "idempotency_key.scope", "idempotency_key.key", "idempotency_key.request_hash",
    "kv_store.key", "kv_store.namespace",
    # judging (judges and administrators only)
    "award_conflict.reason", "award_score.comment", "award_score_history.action",
    "award_score_history.old_comment", "award_score_history.new_comment",
    # accounts and secrets
    "user_account.email", "user_account.password_hash", "user_account.full_name", "user_account.national_id",
    "user_account.oidc_subject", "user_account.cr_number", "user_account.locale", "user_account.totp_secret",
    "account_token.digest", "api_token.name", "api_token.token_hash",
    "api_token.prefix", "recovery_code.digest",
    # identifiers and codes (a tracking code is a bearer secret, not a text)
    "feedback.tracking_code", "feedback.language", "idea.language", "theme.scope", "theme.key",
    "theme_group.scope", "theme_group.key",
    "theme_model.scope", "theme_model.method", "theme_run.scope", "theme_run.status", "feedback_event.kind",
    "text_embedding.kind", "text_embedding.encoder",
    "feedback_event.from_status", "feedback_event.to_status", "idea_status_event.kind",
    "idea_status_event.from_status", "idea_status_event.to_status",
    # attachments: the sender's file name and a document's title are shown to the owning agency, administrators
    # and the uploader only (anyone else, a published file's public included, gets a neutral name); the rest
    # are identifiers (voice.attachments)
    "attachment.filename", "attachment.title", "attachment.kind", "attachment.media_type", "attachment.owner_kind",
    "attachment.sha256", "attachment.storage_key",
}
# Public, but not free text about a person: catalogue and award set-up written by administrators, and the
# names people chose to be shown under (``User.public_name``).
PUBLIC_BY_DESIGN = {
    "agency.slug", "agency.name_ar", "agency.name_en", "agency.description_ar", "agency.description_en",
    "agency.contact_email", "service.slug", "service.name_ar", "service.name_en", "service.description_ar",
    "service.channel", "award_edition.name_ar", "award_edition.name_en",
    "award_branch.slug", "award_branch.name_ar", "award_branch.name_en",
    "award_branch.description_ar", "award_branch.description_en", "award_criterion.name_ar",
    "award_criterion.name_en", "award_criterion.description", "award_criterion.description_ar",
    "user_account.display_name", "user_account.organisation", "award_result.entrant",
    "consultation_comment.organisation", "consultation.draft_document",  # a link to the published draft
}
# What must stay public-typed: the texts staff and citizens write that public pages, the API and Open311 show.
MUST_BE_PUBLIC = {
    "feedback.body_public", "feedback.moderation_reason", "feedback_event.note", "feedback_response.body",
    "bulk_answer.body", "improvement.title", "improvement.description", "theme.label", "theme_group.label",
    "idea.title",
    "idea.description_public", "idea.problem_public", "idea.decline_reason", "idea.answer",
    "idea.moderation_reason", "idea_comment.body_public", "idea_comment.hidden_reason", "idea_status_event.note",
    "idea_status_event.answer", "award_entry.title", "award_entry.narrative", "award_result.title",
    "consultation.title_ar", "consultation.title_en", "consultation.summary_ar", "consultation.summary_en",
    "consultation.close_reason", "consultation.report_summary", "consultation_article.title",
    "consultation_article.body", "consultation_article.reason", "consultation_article.amended_body",
    "consultation_comment.body_public", "consultation_comment.hidden_reason",
}
SEARCH_COLUMNS = {"feedback.search_text", "idea.search_text"}


def _text_columns() -> dict[str, object]:
    found = {}
    for table in metadata.tables.values():
        for column in table.columns:
            kind = column.type
            if isinstance(kind, PublicText | PublicSearchText) or (
                    isinstance(kind, String | Text) and not isinstance(kind, Enum)):
                found[f"{table.name}.{column.name}"] = kind
    return found


def test_every_text_column_is_declared_public_or_not() -> None:
    columns = _text_columns()
    public = {name for name, kind in columns.items() if isinstance(kind, PublicText)}
    search = {name for name, kind in columns.items() if isinstance(kind, PublicSearchText)}
    plain = set(columns) - public - search
    undeclared = plain - NOT_PUBLIC - PUBLIC_BY_DESIGN
    assert not undeclared, (
        f"text columns neither PublicText nor declared not public: {sorted(undeclared)} — a text the public may "
        "read must be voice.db.PublicText; otherwise list it in NOT_PUBLIC with the reason")
    assert MUST_BE_PUBLIC <= public, f"no longer redacted: {sorted(MUST_BE_PUBLIC - public)}"
    assert search == SEARCH_COLUMNS
    assert not (public & (NOT_PUBLIC | PUBLIC_BY_DESIGN)), "a column is listed as private but typed public"
    assert (NOT_PUBLIC | PUBLIC_BY_DESIGN) <= set(columns), "a listed column no longer exists"


def test_redaction_is_idempotent_on_the_generated_set() -> None:
    """Public columns redact on assignment and again on binding: a second pass must change nothing."""
    rnd = random.Random(13)
    for i in range(3000):
        kind = sorted(GENERATORS)[i % len(GENERATORS)]
        if i % 8 == 7:
            sentence, _pii = gen_name(rnd)
        else:
            sentence = rnd.choice(SENTENCES).format(GENERATORS[kind](rnd))
        once = public_text(sentence)
        assert public_text(once) == once and public_text("x " + once) == "x " + once, sentence


ID, PHONE = "1023456789", "0501234567"
RAW = "رقم هويتي １０２３٤٥٦٧٨٩ وجوالي 05\u200d01234567 وبريدي محمد@example.com واسمي فهد عبدالله القحطاني"


async def test_orm_core_and_raw_sql_writes_all_store_the_redacted_form(db: AsyncSession) -> None:
    agency = await make_agency(db, "passports")
    await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    # ORM: the object in memory holds the public form as soon as the attribute is set.
    improvement = Improvement(agency_id=agency.id, kind="service", title=RAW, description=RAW)
    assert "القحطاني" not in improvement.title and "example.com" not in improvement.description
    db.add(improvement)
    await db.flush()
    # Core UPDATE: the column's type redacts the bound value.
    await db.execute(update(Improvement).where(Improvement.id == improvement.id).values(description=f"هويتي {ID}"))
    # The raw intake statement (arrays bound with the public types).
    item = await IntakeService(db).submit(Submission(agency="passports", body=RAW, publish=True))
    await db.commit()
    stored = (await db.execute(select(Improvement.title, Improvement.description)
                               .where(Improvement.id == improvement.id))).one()
    row = (await db.execute(select(Feedback.body, Feedback.body_public, Feedback.search_text)
                            .where(Feedback.id == item.id))).one()
    assert row.body == RAW  # the original stays, for the agency
    for text in (*stored, row.body_public, row.search_text):
        for secret in (ID, PHONE, "example.com", "محمد@", "القحطاني"):
            assert secret not in text, (secret, text)
    assert "[رقم هوية]" in row.body_public and "[هاتف]" in row.body_public
    # An improvement title longer than its column after redaction is cut, not refused with a 500.
    long = " ".join(["a@b.co"] * 34)
    improvement.title = long
    await db.commit()
    assert len(await db.scalar(select(Improvement.title).where(Improvement.id == improvement.id))) == 200


@pytest.mark.slow  # a database of its own, migrated twice
def test_migration_0009_redacts_what_was_written_before() -> None:
    """Rows written before the public columns redacted (staff answers, old public texts, search terms) are
    redacted by migration 0009, so neither the board nor public search still holds them."""
    from tests.migration_db import database_at

    with database_at("0016", "m0009") as database:
        database.execute(f"""
            INSERT INTO agency (id, slug, name_ar, name_en, description_ar, description_en, sla_days, is_active,
                                publish_after_review, contact_email, created_at, updated_at)
            VALUES (1, 'passports', 'الجوازات', 'Passports', '', '', 10, true, false, '', now(), now());
            INSERT INTO feedback (id, tracking_code, agency_id, kind, submitter_kind, channel, body, body_public,
                                  search_text, publish, moderation, is_public, status, supporters, due_at, language,
                                  created_at, updated_at)
            VALUES (1, 'ABCD-EFGH-JKLM', 1, 'complaint', 'individual', 'web', '{RAW}', '{RAW}',
                    '1023456789 0501234567', true, 'visible', true, 'received', 0, now(), 'ar', now(), now());
            INSERT INTO feedback_response (id, feedback_id, agency_id, body, public, created_at, updated_at)
            VALUES (1, 1, 1, 'تواصلنا معك على 0559876543 وهويتك 1098765432', true, now(), now());
        """)  # noqa: S608  (constant test text)
        database.upgrade()
        (row,) = database.fetch("SELECT f.body, f.body_public, f.search_text, r.body AS answer "
                                "FROM feedback f JOIN feedback_response r ON r.feedback_id = f.id")
    assert row["body"] == RAW  # the original is the agency's
    assert row["answer"] == "تواصلنا معك على [هاتف] وهويتك [رقم هوية]"
    for text in (row["body_public"], row["search_text"]):
        for secret in (ID, PHONE, "القحطاني", "example.com"):
            assert secret not in text, (secret, text)
