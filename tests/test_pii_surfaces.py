"""No personal data on any public surface, whoever wrote it and in whatever written form.

Every public writer (citizens: feedback by form, JSON API and Open311, idea titles, descriptions and
problems, comments; staff: public answers, status notes, bulk answers, theme names, improvement titles and
descriptions, idea decline reasons and official answers) is given texts holding personal data in the forms
people paste — fullwidth, mathematical bold and Arabic-Indic digits, zero-width joiners and spaces inside
numbers, dots, underscores and spaces between digits, an e-mail with an Arabic local part, a name after
"واسمي" — through the real HTTP routes. Then every public GET route of the app (walked from the route table,
so a new public page is visited without anyone remembering it) is read anonymously, as a page, an htmx
partial and JSON, in both languages, and the folded answer must hold none of the values. Public search,
by every written form of each value, must find nothing.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta
from urllib.parse import unquote

import httpx
import pytest
from litestar.routes import HTTPRoute
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import Idea
from nlp.redact import fold
from tests.conftest import post_form
from tests.factories import make_agency, make_token, make_user
from tests.test_security import other_client, sign_in
from voice.accounts.models import Role
from voice.attachments.models import Attachment
from voice.feedback.models import Feedback
from voice.themes.models import Theme

# Each value appears in one written form; the test looks for its digits (or its words) in every form.
IDS = ["1023456789", "1122334455", "2099887766", "1033445566", "1044556677", "1055667788", "1066778899"]
PHONES = ["0501234567", "0559876543"]
FORMS = [
    "هويتي ١٠٢٣٤٥٦٧٨٩",  # Arabic-Indic
    "１１２２３３４４５５",  # fullwidth
    "𝟐𝟎𝟗𝟗𝟖𝟖𝟕𝟕𝟔𝟔",  # mathematical bold
    "10\u200b33445566",  # zero-width space inside
    "05\u200d01234567",  # zero-width joiner inside
    "1.0.4.4.5.5.6.6.7.7",  # dots between digits
    "1055_667_788",  # underscores
    "1 0 6 6 7 7 8 8 9 9",  # spaces between digits
    "0559876543",
    "محمد@example.com",  # an Arabic local part
    "واسمي فهد عبدالله القحطاني",  # a name after a cue
]
NAME_WORDS = ["القحطاني", "فهد عبدالله"]
EMAIL_PARTS = ["محمد@", "@example.com"]
DIGIT_SEPARATORS = re.compile(r"(?<=\d)[\s._\-]+(?=\d)")


def pii_text(marker: str) -> str:
    """A text under 200 characters (titles, theme names) holding every form, with a findable marker word."""
    text = f"{marker} " + "، ".join(FORMS)
    assert len(text) <= 200, len(text)
    return text


def leaks(body: str) -> list[str]:
    """The values of IDS, PHONES, names and e-mails still readable in a public answer, in any written form."""
    view = fold(body)
    digits = DIGIT_SEPARATORS.sub("", view)
    found = [v for v in IDS + PHONES if v in digits]
    found += [w for w in NAME_WORDS + EMAIL_PARTS if w in view]
    return found


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _readable(response: httpx.Response) -> str:
    """The answer as a person or a client reads it, headers included (a file name travels in
    Content-Disposition)."""
    headers = unquote(" ".join(f"{k}: {v}" for k, v in response.headers.items()))
    return headers + "\n" + _body(response)


def _body(response: httpx.Response) -> str:
    if "spreadsheetml" in response.headers.get("content-type", ""):  # an XLSX export: the XML inside
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    if "json" in response.headers.get("content-type", ""):
        try:
            return json.dumps(response.json(), ensure_ascii=False)
        except ValueError:
            return response.text
    return response.text


def public_get_routes(app: object) -> dict[str, str]:
    """Every GET route no guard protects, by path, with its handler's name."""
    routes = {}
    for route in app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            guarded = any(getattr(layer, "guards", None) for layer in handler.ownership_layers)
            if "GET" in handler.http_methods and not guarded:
                routes[route.path] = handler.handler_name
    return routes


# Public GET routes that carry no stored text (static files, the API description, sign-in forms…) or whose
# path parameter is not a record; visiting them proves nothing here. Any other public route must be filled in
# by ``fill`` below — a new one fails the test until it is.
NO_STORED_TEXT = {
    "/static/{file_path:path}", "/schema", "/schema/{path:str}", "/schema/openapi.json",
    "/schema/oauth2-redirect.html", "/open311/v2/{rest:path}", "/open311/v2/requests/{service_request_id:str}/{rest:path}",
}


@pytest.mark.slow  # about a minute: every public route, three ways, after some thirty writes
async def test_no_personal_data_on_any_public_surface(app: object, client: httpx.AsyncClient,
                                                      db: AsyncSession) -> None:
    home = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_ADMIN, agency=home)
    admin = await make_user(db, Role.ADMIN)
    citizen = await make_user(db)
    token = await make_token(db, citizen)
    await db.commit()
    markers: dict[str, str] = {}  # marker word -> the field it was written into

    def text_for(field: str) -> str:
        marker = f"علامة{len(markers) + 1}س"
        markers[marker] = field
        return pii_text(marker)

    # ----- citizens: feedback by the form, the JSON API and Open311 (published to the board) -------------
    anonymous = other_client(client)
    # With a screenshot whose file name holds personal data (shown and sent once a moderator publishes it).
    form = await post_form(anonymous, "/feedback", {
        "agency": "passports", "kind": "complaint", "submitter_kind": "individual",
        "body": text_for("feedback form body"), "publish": "on"},
        files={"screenshot": ("هويتي 1023456789 جوالي 0559876543.png", png(), "image/png")})
    assert form.status_code in (200, 201, 303), form.text[:300]
    api = await anonymous.post("/api/v1/feedback", json={
        "agency": "passports", "kind": "suggestion", "submitter_kind": "individual",
        "body": text_for("feedback API body"), "publish": True})
    assert api.status_code == 201, api.text[:300]
    open311 = await anonymous.post("/open311/v2/requests.json", data={
        "service_code": "passports", "description": text_for("Open311 description"),
        "attribute[publish]": "true"})
    assert open311.status_code == 201, open311.text[:300]
    items = list((await db.scalars(select(Feedback).order_by(Feedback.id))).all())
    assert len(items) == 3 and all(i.is_public for i in items)

    # ----- citizens: ideas and comments (web form and API) -----------------------------------------------
    await sign_in(client, citizen.email)
    for n in range(3):
        shared = await post_form(client, "/ideas", {
            "title": text_for(f"idea title {n}"), "description": text_for(f"idea description {n}"),
            "problem": text_for(f"idea problem {n}"), "category": "digital_services", "agency": "passports"})
        assert shared.status_code == 303, shared.text[:300]
    by_api = await client.post("/api/v1/ideas", headers={"Authorization": f"Bearer {token}"}, json={
        "title": text_for("idea title (API)"), "description": text_for("idea description (API)"),
        "category": "other"})
    assert by_api.status_code == 201, by_api.text[:300]
    ideas = list((await db.scalars(select(Idea).order_by(Idea.id))).unique().all())
    assert len(ideas) == 4 and all(i.is_public for i in ideas)
    commented = await post_form(client, f"/ideas/{ideas[0].id}/comments", {"body": text_for("comment")})
    assert commented.status_code in (200, 303), commented.text[:300]

    # ----- staff: answers, status notes, a theme's name and bulk answer, improvements -------------------
    theme = Theme(agency_id=home.id, scope="feedback", key="t1", label="موضوع", keywords=[], size=1)
    db.add(theme)
    await db.flush()
    await db.execute(update(Feedback).where(Feedback.id == items[2].id).values(theme_id=theme.id))
    await db.commit()
    await sign_in(client, staff.email)
    staff_writes = [
        (f"/agency/feedback/{items[0].id}/answer", {"body": text_for("public answer"), "visibility": "public"}),
        (f"/agency/feedback/{items[0].id}/status", {"status": "in_review", "reason": text_for("status note")}),  # answering moved it to in progress
        (f"/agency/feedback/{items[1].id}/answer", {"body": text_for("private answer"), "visibility": "private"}),
        (f"/agency/themes/{theme.id}/rename", {"label": text_for("theme name")}),
        (f"/agency/themes/{theme.id}/answer", {"body": text_for("bulk answer")}),
        ("/agency/improvements", {"title": text_for("improvement title"), "description": text_for(
            "improvement description"), "kind": "service", "status": "delivered", "feedback": str(items[0].id)}),
        (f"/ideas/{ideas[1].id}/status", {"status": "adopted", "answer": text_for("idea answer (adopted)")}),
    ]
    screenshot = await db.scalar(select(Attachment))
    staff_writes.append((f"/attachments/{screenshot.id}/publish", {"published": "1"}))
    for path, data in staff_writes:
        response = await post_form(client, path, data)
        assert response.status_code == 303, f"{path}: {response.status_code} {response.text[:300]}"
    await sign_in(client, admin.email)
    declined = await post_form(client, f"/ideas/{ideas[2].id}/status", {
        "status": "declined", "reason": text_for("idea decline reason"), "answer": text_for("idea official answer")})
    assert declined.status_code == 303, declined.text[:300]

    # ----- staff and citizens: a consultation (JSON API), a view on an article, closing, the report -------
    staff_api = {"Authorization": f"Bearer {await make_token(db, staff)}"}
    await db.commit()
    drafted = await client.post("/api/v1/agency/consultations", headers=staff_api, json={
        "title_ar": text_for("consultation title (ar)"), "title_en": text_for("consultation title (en)"),
        "summary_ar": text_for("consultation summary (ar)"), "summary_en": text_for("consultation summary (en)"),
        "opens_on": date.today().isoformat(), "closes_on": (date.today() + timedelta(days=30)).isoformat(),
        "articles": [{"number": 1, "title": text_for("article title"), "text": text_for("article text")},
                     {"number": 2, "title": "المادة الثانية", "text": "نص المادة الثانية كما هو"}]})
    assert drafted.status_code == 201, drafted.text[:300]
    consultation_id = drafted.json()["id"]
    base = f"/api/v1/agency/consultations/{consultation_id}"
    assert (await client.post(f"{base}/publish", headers=staff_api)).status_code == 200
    viewed = await client.post(f"/api/v1/consultations/{consultation_id}/comments",
                               headers={"Authorization": f"Bearer {token}"},
                               json={"article": 1, "stance": "suggest", "body": text_for("consultation comment")})
    assert viewed.status_code == 201, viewed.text[:300]
    closed = await client.post(f"{base}/close", headers=staff_api, json={"reason": text_for("closing reason")})
    assert closed.status_code == 200, closed.text[:300]
    reported = await client.post(f"{base}/report", headers=staff_api, json={
        "summary": text_for("report summary"),
        "articles": [{"number": 1, "decision": "amended", "reason": text_for("decision reason"),
                      "amended_text": text_for("amended text")}, {"number": 2, "decision": "kept"}]})
    assert reported.status_code == 200, reported.text[:300]

    # ----- every public GET route, anonymously ----------------------------------------------------------
    feedback = list((await db.scalars(select(Feedback).order_by(Feedback.id))).all())
    ideas = list((await db.scalars(select(Idea).order_by(Idea.id))).unique().all())
    fill = {
        "code": [f.tracking_code for f in feedback], "tracking_code": [f.tracking_code for f in feedback],
        "service_request_id": [f"FB-{f.id}" for f in feedback] + [f.tracking_code for f in feedback],
        "idea_id": [str(i.id) for i in ideas], "edition_id": ["1"], "entry_id": ["1"],
        "agency_slug": ["passports"], "consultation_id": [str(consultation_id)], "fmt": ["csv", "xlsx"],
        "attachment_id": [str(screenshot.id)], "feedback_id": [str(f.id) for f in feedback],
    }
    queries = {
        "/feedback": [{}, {"agency": "passports"}, {"theme": str(theme.id)}],
        "/ideas": [{}, {"sort": "newest"}], "/api/v1/ideas": [{}], "/open311/v2/requests.json": [{}],
        "/api/v1/ideas/similar": [{"q": "علامة"}], "/ideas/similar-panel": [{"title": "علامة"}],
    }
    urls: list[str] = []
    for path in public_get_routes(app):
        if path in NO_STORED_TEXT or path.startswith("/static/"):  # files shipped with the code
            continue
        params = re.findall(r"{(\w+):\w+}", path)
        missing = [p for p in params if p not in fill]
        assert not missing, f"public route {path}: add its parameters {missing} to this test"
        concrete = [path]
        for name in params:
            concrete = [re.sub(r"{" + name + r":\w+}", value, c) for c in concrete for value in fill[name]]
        for url in concrete:
            for query in queries.get(path, [{}]):
                urls.append(str(httpx.URL(url, params=query)))
    seen: dict[str, str] = {}
    reader = other_client(client)
    english = other_client(client)  # pages by ?lang= (kept in a cookie), the API by Accept-Language
    assert (await english.get("/", params={"lang": "en"})).status_code in (200, 303)
    english.headers["Accept-Language"] = "en"
    for url in urls:
        for who, headers in ((reader, {}), (reader, {"HX-Request": "true"}), (english, {})):
            response = await who.get(url, headers=headers)
            assert response.status_code < 500, f"{url}: {response.status_code}"
            body = _readable(response)
            assert not leaks(body), f"{url} {headers}: {leaks(body)} readable"
            seen[url] = seen.get(url, "") + fold(body)
    # A page in English shows the placeholders in English.
    board_en = (await english.get("/feedback")).text
    assert "[phone]" in board_en and "[ID number]" in board_en and "[هاتف]" not in board_en
    everything = "".join(seen.values())
    # The published screenshot was served to the public, with its file name header (read above).
    sent = await reader.get(f"/attachments/{screenshot.id}")
    assert sent.status_code == 200 and "content-disposition" in sent.headers
    # The texts were really shown (so the check above read them): every field's marker is somewhere…
    shown = {field for marker, field in markers.items() if marker in everything}
    assert set(markers.values()) - shown == set(), "fields not found on any public page"
    # …and a private answer only where the submitter's tracking code opens it (redacted there too).
    private = next(marker for marker, field in markers.items() if field == "private answer")
    codes = [f.tracking_code for f in feedback]
    where = [url for url, text in seen.items() if private in text]
    assert where and all(any(code in url for code in codes) for url in where), where

    # ----- public search by every written form of each value finds nothing --------------------------------
    probes = ["1023456789", "١٠٢٣٤٥٦٧٨٩", "１０２３４５６７８９", "1.0.2.3.4.5.6.7.8.9", "10\u200b23456789",
              "1122334455", "2099887766", "1033445566", "1044556677", "1055667788", "1055_667_788",
              "1066778899", "0501234567", "05\u200d01234567", "0559876543", "محمد@example.com", "القحطاني"]
    searches = [("/feedback", "q"), ("/ideas", "q"), ("/api/v1/ideas", "q"), ("/api/v1/ideas/similar", "q"),
                ("/ideas/similar-panel", "title")]
    for probe in probes:
        for path, name in searches:
            response = await reader.get(path, params={name: probe})
            assert response.status_code < 500, f"{path}?{name}={probe!r}: {response.status_code}"
            found = [m for m in markers if m in fold(_readable(response))]
            assert not found, f"{path}?{name}={probe!r} finds {[markers[m] for m in found]}"
    # …while the same search finds the items by an ordinary word of theirs (the search works).
    assert "علامة1س" in fold((await reader.get("/feedback", params={"q": "علامة1س"})).text)
    assert "علامة4س" in fold((await reader.get("/ideas", params={"q": "علامة4س"})).text)


async def test_judges_read_staff_texts_redacted(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """An idea's decline reason and official answer, written by staff with personal data, reach the judge's
    score page (a page no anonymous walk reaches) in their public form only."""
    from tests.test_awards import judging_setup

    admin, _agency, _author, ideas, _edition, _branch, (judge, _other), entries = await judging_setup(db)
    await sign_in(client, admin.email)
    declined = await post_form(client, f"/ideas/{ideas[0].id}/status", {
        "status": "declined", "reason": pii_text("علامةرفضس"), "answer": pii_text("علامةجوابس")})
    assert declined.status_code == 303, declined.text[:300]
    await sign_in(client, judge.email)
    for path in ("/awards/judging", f"/awards/judging/entries/{entries[0].id}",
                 f"/awards/judging/entries/{entries[0].id}/evidence"):
        page = await client.get(path)
        assert page.status_code in (200, 404), f"{path}: {page.status_code}"
        assert not leaks(page.text), f"{path}: {leaks(page.text)} readable"
    score_page = fold((await client.get(f"/awards/judging/entries/{entries[0].id}")).text)
    assert "علامةجوابس" in score_page  # the official answer is shown to the judge, redacted
