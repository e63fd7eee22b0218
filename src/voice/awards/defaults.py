"""What a new edition starts with: the award's seven branches and their default rubrics (data, edited
afterwards from the admin pages until judging starts)."""

from __future__ import annotations

from voice.awards.models import BranchCode

# The award's seven branches, in the order the award lists them: (code, Arabic, English, blind by default).
BRANCHES: list[tuple[BranchCode, str, str, bool]] = [
    (BranchCode.G2C, "خدمة الأفراد", "Service to individuals (G2C)", False),
    (BranchCode.G2B, "تعزيز الاقتصاد الوطني", "Strengthening the national economy (G2B)", False),
    (BranchCode.G2G, "التكامل بين الجهات الحكومية", "Integration between government agencies (G2G)", False),
    (BranchCode.E_LEADERSHIP, "القيادة الإلكترونية", "E-leadership", False),
    (BranchCode.E_PARTICIPATION, "المشاركة المجتمعية الإلكترونية (صوت المستفيد)",
     "E-community participation (voice of the beneficiary)", False),
    (BranchCode.SMART_DEVICES, "الخدمات الإلكترونية عبر الأجهزة الذكية", "E-services on smart devices", False),
    (BranchCode.E_CONTRIBUTION, "المساهمة الإلكترونية (الأفراد)", "E-contribution (individuals)", True),
]

# Default rubrics: (Arabic, English, English description, weight, Arabic description); every criterion is
# scored 0..10.
DEFAULT_SCALE = 10
RUBRICS: dict[str, list[tuple[str, str, str, float, str]]] = {
    BranchCode.E_CONTRIBUTION: [
        ("الابتكار", "Innovation", "How new and creative the idea is.", 3, "مدى جِدّة الفكرة وإبداعها."),
        ("قابلية التطبيق", "Feasibility", "Can an agency realistically build it with today's means?", 2,
         "هل تستطيع جهة تنفيذها واقعيًا بالإمكانات الحالية؟"),
        ("الأثر على جودة الخدمة", "Impact on service quality", "How much better the e-service would be.", 3,
         "كم ستتحسن الخدمة الإلكترونية بها."),
        ("الوضوح", "Clarity", "Is the problem and the proposal clearly explained?", 2,
         "هل المشكلة والمقترح مشروحان بوضوح؟"),
    ],
    BranchCode.E_PARTICIPATION: [
        ("الوصول وتعدد القنوات", "Reach and channels", "Who could speak, and through how many channels.", 2,
         "من استطاع أن يُدلي برأيه، وعبر كم قناة."),
        ("الاستجابة", "Responsiveness", "Share answered, time to first answer, within the SLA.", 3,
         "نسبة ما أُجيب عنه، وزمن أول رد، والالتزام بمستوى الخدمة."),
        ("إغلاق الحلقة", "Closing the loop", "Feedback turned into delivered improvements.", 3,
         "ملاحظات تحولت إلى تحسينات منفذة."),
        ("الشفافية", "Transparency", "Published answers and what changed, visible to the public.", 2,
         "ردود منشورة وما تغيّر، ظاهرة للجمهور."),
    ],
    "generic": [
        ("جودة الخدمة وسهولتها", "Service quality and ease of use", "Completeness, speed, ease of use.", 3,
         "اكتمال الخدمة وسرعتها وسهولة استخدامها."),
        ("الأثر والنتائج", "Impact and results", "Measured results for beneficiaries.", 3,
         "نتائج مقيسة للمستفيدين."),
        ("الابتكار", "Innovation", "New approaches and technologies.", 2, "أساليب وتقنيات جديدة."),
        ("التكامل والاستدامة", "Integration and sustainability", "Works with other agencies and lasts.", 2,
         "تتكامل مع الجهات الأخرى وتدوم."),
    ],
}
