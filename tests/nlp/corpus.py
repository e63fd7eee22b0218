"""A small synthetic feedback corpus: five e-service topics written in MSA and Gulf dialect."""

import random

TOPICS = {
    "passport": [
        "تجديد جواز السفر يتأخر كثيرا",
        "ابي اجدد الجواز والموقع ما يقبل الطلب",
        "طلب تجديد جواز السفر معلق من أسبوع",
        "رسوم تجديد الجواز انخصمت والجواز ما تجدد",
        "كيف أجدد جواز السفر لابني",
        "موعد استلام الجواز الجديد غير واضح",
    ],
    "login": [
        "لا أستطيع تسجيل الدخول إلى أبشر",
        "رمز التحقق ما يوصل على الجوال عند الدخول",
        "كلمة المرور لا تعمل وتسجيل الدخول يفشل",
        "الدخول للنظام يعطي خطأ بعد التحديث",
        "نسيت كلمة المرور ورمز التحقق لا يصل",
        "تسجيل الدخول في التطبيق يعلق",
    ],
    "traffic": [
        "سداد المخالفات المرورية لا يظهر في النظام",
        "عندي مخالفة مرورية خاطئة أبي أعترض عليها",
        "دفعت المخالفة وما زالت تظهر غير مسددة",
        "الاعتراض على المخالفات المرورية صعب",
        "مخالفة ساهر وصلتني وأنا ما كنت أسوق",
        "كيف أسدد المخالفات المرورية المتراكمة",
    ],
    "hospital": [
        "حجز موعد في المستشفى متاح بعد شهرين",
        "ما لقيت موعد قريب في المستشفى للطبيب",
        "تطبيق صحتي لا يعرض مواعيد المستشفى",
        "إلغاء موعد المستشفى لا يعمل",
        "الموعد في المستشفى انلغى بدون إشعار",
        "أبي أحجز موعد أسنان في المستشفى",
    ],
    "electricity": [
        "فاتورة الكهرباء مرتفعة جدا هذا الشهر",
        "الكهرباء انقطعت عن الحي من الصباح",
        "عداد الكهرباء يحسب استهلاك غير صحيح",
        "سداد فاتورة الكهرباء لا ينعكس على الحساب",
        "انقطاع الكهرباء يتكرر كل يوم",
        "أعترض على قيمة فاتورة الكهرباء",
    ],
}

PREFIXES = ["", "السلام عليكم ", "لو سمحت ", "مرحبا، ", "يا جماعة ", "للأسف "]
SUFFIXES = ["", " وشكرا", " ارجو الحل", "!", " 🙏", " الله يعافيكم"]


def feedback_corpus(per_topic: int = 12, seed: int = 0) -> tuple[list[str], list[str]]:
    r = random.Random(seed)
    texts, labels = [], []
    for _ in range(per_topic):
        for topic, sentences in TOPICS.items():
            texts.append(r.choice(PREFIXES) + r.choice(sentences) + r.choice(SUFFIXES))
            labels.append(topic)
    return texts, labels


# Uneven feedback as it arrives: one dominant topic, a mid one, a small one, plus English one-liners,
# texts written in a pros/cons template and near-empty thanks. Each topic text is built from a topic
# subject, a topic problem and a tail shared by every topic (so topics share words, as real ones do).
UNEVEN_TOPICS = {
    "electricity": (
        ["فاتورة الكهرباء", "عداد الكهرباء", "انقطاع الكهرباء", "الكهرباء في الحي", "شركة الكهرباء",
         "التيار الكهربائي", "فاتورة الكهرباء الشهرية", "الكهرباء في البيت"],
        ["مرتفعة جدا هذا الشهر", "يتكرر كل يوم", "يحسب استهلاك غير صحيح", "انقطعت من الصباح",
         "ما ترد على البلاغات", "طلعت ضعف الشهر الماضي", "يفصل كل ساعة", "قراءة العداد خاطئة"],
    ),
    "passport": (
        ["تجديد جواز السفر", "طلب جواز السفر", "استلام الجواز الجديد", "موعد الجوازات", "رسوم تجديد الجواز"],
        ["معلق من أسبوعين", "الموقع ما يقبل الطلب", "انخصمت والطلب ما تحرك", "ما فيه مواعيد متاحة",
         "تأخر كثيرا بدون سبب", "يطلب صورة جديدة كل مرة"],
    ),
    "hospital": (
        ["موعد المستشفى", "حجز موعد الطبيب", "عيادة الأسنان في المستشفى", "تطبيق مواعيد المستشفى"],
        ["متاح بعد شهرين", "انلغى بدون إشعار", "ما يعرض أي مواعيد", "الانتظار فيه ساعات"],
    ),
}
SHARED_TAILS = ["", " ارجو الحل", " من أسبوع", " وما أحد رد علي", " للأسف", " والموظف ما ساعدني", " 🙏"]
ENGLISH_ONE_LINERS = ["good service", "very bad", "thanks", "nice app", "bad experience", "good quality",
                      "not good", "excellent", "too slow", "great job", "thank you", "very good"]
TEMPLATE = "الإيجابيات: {p} السلبيات: {n}"
TEMPLATE_WORDS = ["لا يوجد", "سرعة", "التعامل", "السعر", "الانتظار", "النظافة"]


def uneven_corpus(sizes: tuple[int, int, int] = (300, 90, 30), seed: int = 0) -> tuple[list[str], list[str]]:
    """Topic texts in the given sizes, 40 English one-liners and 20 template texts, shuffled."""
    r = random.Random(seed)
    rows = []
    for (topic, (subjects, problems)), size in zip(UNEVEN_TOPICS.items(), sizes, strict=True):
        rows += [(f"{r.choice(subjects)} {r.choice(problems)}{r.choice(SHARED_TAILS)}", topic) for _ in range(size)]
    rows += [(r.choice(ENGLISH_ONE_LINERS) + r.choice(["", "!", " 👍", "."]), "english") for _ in range(40)]
    rows += [(TEMPLATE.format(p=r.choice(TEMPLATE_WORDS), n=r.choice(TEMPLATE_WORDS)), "template") for _ in range(20)]
    r.shuffle(rows)
    return [t for t, _ in rows], [lab for _, lab in rows]
