"""Arabic descriptions for the standard rubric criteria stored before they had one

Migration 0008 added ``award_criterion.description_ar`` empty; the default rubrics got their Arabic
descriptions at the same time, so only editions (and added branches) created before it lack them, and their
judges read the rubric in English on an Arabic page. This fills the Arabic description of each standard
criterion whose English description is still the standard one and whose Arabic description is empty. A
criterion whose English text staff rewrote keeps an empty Arabic one (the standard translation would not
say what they wrote), and Arabic that staff wrote is never touched.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The default rubrics' descriptions as voice.awards.defaults had them when 0008 ran (English → Arabic),
# copied here so that this migration does the same thing whatever the defaults become later. Each English
# description belongs to one criterion (the two "Innovation" criteria are told apart by theirs).
STANDARD: dict[str, str] = {
    "How new and creative the idea is.": "مدى جِدّة الفكرة وإبداعها.",
    "Can an agency realistically build it with today's means?": "هل تستطيع جهة تنفيذها واقعيًا بالإمكانات الحالية؟",
    "How much better the e-service would be.": "كم ستتحسن الخدمة الإلكترونية بها.",
    "Is the problem and the proposal clearly explained?": "هل المشكلة والمقترح مشروحان بوضوح؟",
    "Who could speak, and through how many channels.": "من استطاع أن يُدلي برأيه، وعبر كم قناة.",
    "Share answered, time to first answer, within the SLA.": "نسبة ما أُجيب عنه، وزمن أول رد، والالتزام بمستوى الخدمة.",
    "Feedback turned into delivered improvements.": "ملاحظات تحولت إلى تحسينات منفذة.",
    "Published answers and what changed, visible to the public.": "ردود منشورة وما تغيّر، ظاهرة للجمهور.",
    "Completeness, speed, ease of use.": "اكتمال الخدمة وسرعتها وسهولة استخدامها.",
    "Measured results for beneficiaries.": "نتائج مقيسة للمستفيدين.",
    "New approaches and technologies.": "أساليب وتقنيات جديدة.",
    "Works with other agencies and lasts.": "تتكامل مع الجهات الأخرى وتدوم.",
}


def upgrade() -> None:
    # Only empty (or blank) Arabic descriptions are filled, matched on the whole English text.
    fill = sa.text("UPDATE award_criterion SET description_ar = :ar "
                   "WHERE btrim(description) = :en AND btrim(description_ar) = ''")
    bind = op.get_bind()
    for en, ar in STANDARD.items():
        bind.execute(fill, {"en": en, "ar": ar})


def downgrade() -> None:
    # Nothing to undo: the filled texts are the standard translations, and a row filled here cannot be told
    # from one an administrator filled with the same words since; emptying them would lose the latter.
    pass
