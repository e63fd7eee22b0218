"""Hostile input against every route of the real app (``app.routes``), as every role.

For each route and method, requests carry hostile values in every query parameter, every string path
parameter, every form field and every JSON member the route could read: NUL and other control characters,
direction overrides, invalid UTF-8 and UTF-8-encoded surrogates, lone surrogates in JSON, very long
values, unknown enum values, huge and negative numbers, wrong JSON types, deeply nested JSON, and
unknown ids; as an anonymous visitor, a citizen, a judge, agency staff and a platform administrator.

Two things must hold for every request: the answer is never a 5xx, and a refused request (4xx) leaves
every domain table exactly as it was (a fingerprint of their rows is taken after each request). At the
end, no stored text holds a control character or a direction override.

The input-hygiene layer (``voice.web.hygiene``) is what refuses most of these; this test is what shows
that the class is closed, whatever route is added next.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import msgspec
import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.services import IdeaDraft, IdeaService
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user
from tests.test_awards import judging_setup
from voice.accounts.models import Role
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.settings import PROJECT_ROOT

# Tables whose rows a refused request may legitimately change: sessions, rate limits and throttles
# (kv_store), the audit trail (failed sign-ins are audited), the sign-in back-off and API tokens (they
# record their last use).
NOT_FINGERPRINTED = {"kv_store", "audit_event", "sign_in_failure", "alembic_version", "api_token"}
RESERVED = {"request", "data", "state", "scope", "headers", "cookies", "socket", "body", "query", "self"}
SKIPPED_PATHS = ("/static", "/schema", "/signout", "/metrics")

# Values that the hygiene layer refuses wherever they appear (raw bytes for URLs and forms).
REFUSED_RAW = {
    "nul": b"a%00b",
    "bell": b"a%07b",
    "bidi": b"%E2%80%AEabc",
    "bad-utf8": b"%FF%FEabc",
    "surrogate": b"%ED%A0%80",
}
# Values that reach the handlers: each must be answered without a 5xx.
PASSED = {
    "long": "ا" * 6000,
    "unknown": "2024-02-30/../x",  # no enum member, id, date, slug or path
    "huge": "9" * 30,
    "empty": "",
}
JSON_REFUSED = {
    "nul": "a\u0000b",
    "bidi": "\u202eabc",
    "surrogate": "\ud800",
}
JSON_PASSED: list[object] = ["ا" * 6000, "definitely-not-a-known-value", ["a", "b"], {"a": 1}, 10**30, -1, 1.5e308,
                             None, True]


def _field_names() -> list[str]:
    """Every form field and query parameter name the templates and handlers use."""
    names = set(re.findall(r'name="([a-z_\[\]]+)"', "".join(
        p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "templates").rglob("*.html"))))
    names -= {"viewport", "htmx-config", "color-scheme"}
    names |= {"score_1", "comment_1", "c1_weight", "c1_name_ar", "lang", "cursor", "offset", "page", "format",
              "limit", "new", "saved", "for", "watch", "service_code", "service_request_id", "start_date",
              "end_date", "description", "email", "attribute[kind]", "attribute[publish]", "idempotency_key"}
    return sorted(names)


FIELDS = _field_names()


@dataclass
class Target:
    method: str
    template: str  # the route's path with {name:type}
    query: list[str]
    json_fields: list[str] | None  # the members of a JSON body, or None when the route reads no JSON
    form: bool

    def path(self, ids: dict[str, str], override: tuple[str, str] | None = None) -> str:
        def fill(match: re.Match[str]) -> str:
            name, kind = match.group(1), match.group(2)
            if override and kind in ("str", "path"):
                return override[1]
            return ids.get(name, "1" if kind == "int" else "x")
        return re.sub(r"\{([^}:]+):([a-z]+)\}", fill, self.template)


def _json_members(annotation: object) -> list[str]:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return list(candidate.__struct_fields__)
        fields = getattr(candidate, "__dataclass_fields__", None)
        if fields:
            return list(fields)
    return ["title", "body", "description", "agency"]


def targets(app: object) -> Iterator[Target]:
    for route in app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, HTTPRoute) or route.path.startswith(SKIPPED_PATHS):
            continue
        for handler in route.route_handlers:
            parameters = handler.parsed_fn_signature.parameters
            deps = set(handler.resolve_dependencies())
            query = [k for k in parameters if k not in RESERVED | deps | set(route.path_parameters)]
            data = parameters.get("data")
            form = data is not None and getattr(data.kwarg_definition, "media_type", None) is not None
            members = _json_members(data.annotation) if data is not None and not form else None
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                yield Target(method, route.path, query, members, form)


_FINGERPRINT: list[str] = []


async def _fingerprint(db: AsyncSession) -> str:
    """A digest of every row of every domain table (they hold a few rows each here)."""
    if not _FINGERPRINT:
        tables = (await db.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"))).scalars().all()
        # Names from the catalog, not from any input.
        parts = [f"'{name}:' || (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{name}\" t)"  # noqa: S608
                 for name in tables if name not in NOT_FINGERPRINTED and not name.startswith("procrastinate")]
        _FINGERPRINT.append("SELECT " + " || ' ' || ".join(parts))
    return (await db.execute(text(_FINGERPRINT[0]))).scalar_one()


async def _world(db: AsyncSession) -> tuple[dict[str, str], dict[str, str]]:
    admin, agency, _author, _ideas, edition, branch, judges, entries = await judging_setup(db, n_ideas=2)
    staff = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    citizen = await make_user(db)
    item = await IntakeService(db).submit(Submission(
        agency=agency.slug, body="تطبيق الجوازات لا يرسل رمز التحقق منذ يومين", publish=True,
        contact_email="someone@example.sa"))
    idea = await IdeaService(db).submit(IdeaDraft(title="تجديد الجواز من التطبيق مباشرة",
                                                  description="إتاحة تجديد جواز السفر بالكامل عبر التطبيق"), citizen)
    await db.commit()
    service = agency.services[0].slug
    ids = {"feedback_id": str(item.id), "idea_id": str(idea.id), "edition_id": str(edition.id),
           "branch_id": str(branch.id), "entry_id": str(entries[0].id), "user_id": str(citizen.id),
           "slug": agency.slug, "service": service, "code": item.tracking_code,
           "tracking_code": item.tracking_code, "service_request_id": item.tracking_code, "what": "feedback",
           "action": "deactivate", "rest": "x.json"}
    people = {"citizen": citizen.email, "judge": judges[0].email, "staff": staff.email, "admin": admin.email}
    return ids, people


def _form_body(value: bytes) -> bytes:
    return b"&".join(name.encode().replace(b"[", b"%5B").replace(b"]", b"%5D") + b"=" + value for name in FIELDS)


def _query(names: list[str], value: bytes) -> bytes:
    return b"&".join(n.encode().replace(b"[", b"%5B").replace(b"]", b"%5D") + b"=" + value for n in names)


class Walk:
    def __init__(self, client: httpx.AsyncClient, db: AsyncSession, token: str | None) -> None:
        self.client, self.db, self.token = client, db, token
        self.failures: list[str] = []
        self.requests = 0
        self.before = ""

    async def send(self, method: str, url: str, label: str, *, content: bytes | None = None,
                   content_type: str | None = None, api: bool = False) -> httpx.Response:
        headers = {"content-type": content_type} if content_type else {}
        if api and self.token:
            headers["authorization"] = f"Bearer {self.token}"
        csrf = self.client.cookies.get("voice_csrf")
        if csrf and method != "GET":
            headers["x-csrftoken"] = csrf
        response = await self.client.request(method, url, content=content, headers=headers)
        self.requests += 1
        after = await _fingerprint(self.db)
        if response.status_code >= 500:
            self.failures.append(f"{label}: {method} {url[:160]} -> {response.status_code}")
        elif response.status_code >= 400 and after != self.before:
            changed = sorted(set(after.split()) - set(self.before.split()))
            self.failures.append(f"{label}: {method} {url[:160]} -> {response.status_code} but {changed} changed")
        self.before = after
        return response


async def _refused_everywhere(walk: Walk, app: object, ids: dict[str, str]) -> None:
    """Values the hygiene layer refuses, wherever they are; it runs before sign-in and role guards."""
    for target in targets(app):
        api = target.template.startswith(("/api/", "/open311/"))
        base = target.path(ids)
        names = sorted(set(target.query) | set(FIELDS if target.method == "GET" else ["q"]))
        for label, raw in REFUSED_RAW.items():
            refused = await walk.send(target.method, base + "?" + _query(names, raw).decode(), f"query {label}",
                                      api=api)
            if refused.status_code != 400:
                walk.failures.append(f"query {label}: {target.method} {base} -> {refused.status_code}, not 400")
            if re.search(r":(str|path)\}", target.template):
                await walk.send(target.method, target.path(ids, ("x", raw.decode())), f"path {label}", api=api)
            if target.form:
                await walk.send(target.method, base, f"form {label}", content=_form_body(raw),
                                content_type="application/x-www-form-urlencoded")
            if target.json_fields is not None and label in JSON_REFUSED:
                body = json.dumps({m: JSON_REFUSED[label] for m in target.json_fields}).encode()
                await walk.send(target.method, base, f"json {label}", content=body,
                                content_type="application/json", api=True)


# Which roles walk which routes (by path prefix; the first match wins): each route is walked by the roles
# that may use it, the others would only meet its guard (tests/test_security.py and the feature tests
# check the guards).
WALKERS = [
    (("/admin", "/api/v1/admin", "/awards/admin"), ("admin",)),
    (("/agency", "/api/v1/agency", "/awards/agency"), ("staff",)),
    (("/awards/judging",), ("judge",)),
    (("/account", "/api/v1/me", "/ideas", "/api/v1/ideas"), ("citizen",)),
    (("",), ("anonymous", "citizen")),
]


def walked_by(template: str, role: str) -> bool:
    for prefixes, roles in WALKERS:
        if template.startswith(prefixes):
            return role in roles
    return False


def _guarded(response: httpx.Response) -> bool:
    """Whether the role may not use the route at all (then its handler never reads the values)."""
    return response.status_code in (401, 403) or (
        response.status_code == 303 and "/signin" in response.headers.get("location", ""))


async def _walk_as(walk: Walk, app: object, ids: dict[str, str], role: str) -> None:
    for target in targets(app):
        if not walked_by(target.template, role):
            continue
        api = target.template.startswith(("/api/", "/open311/"))
        base = target.path(ids)
        names = sorted(set(target.query) | set(FIELDS if target.method == "GET" else []))
        probe = await walk.send(target.method, base, f"{role} probe", api=api,
                                **({"content": b"{}", "content_type": "application/json"}
                                   if target.json_fields is not None else {}))
        if _guarded(probe):
            continue
        for label, value in PASSED.items():
            if label == "long":  # one parameter at a time: a URL has a length limit of its own
                for name in target.query or ["q"]:
                    quoted = httpx.QueryParams({name: value[:1500]})
                    await walk.send(target.method, f"{base}?{quoted}", f"{role} query {name} {label}", api=api)
            else:
                quoted = httpx.QueryParams({n: value for n in names})
                await walk.send(target.method, f"{base}?{quoted}", f"{role} query {label}", api=api)
            if re.search(r":(str|path)\}", target.template) and len(value) < 100 and label != "empty":
                await walk.send(target.method, target.path(ids, ("x", value or "-")), f"{role} path {label}",
                                api=api)
            if target.form:
                await walk.send(target.method, base, f"{role} form {label}",
                                content=str(httpx.QueryParams({n: value for n in FIELDS})).encode(),
                                content_type="application/x-www-form-urlencoded")
        if target.json_fields is not None:
            await _json_cases(walk, target, base, role)
        if target.form:  # a repeated field and a body of the wrong type
            repeated = await walk.send(target.method, base, f"{role} form repeated",
                                       content=b"title=a&title=b&body=a&body=b",
                                       content_type="application/x-www-form-urlencoded")
            if repeated.status_code != 400:
                walk.failures.append(f"{role} form repeated: {target.method} {base} -> {repeated.status_code}")
            wrong = await walk.send(target.method, base, f"{role} form as json", content=b'{"body": "x"}',
                                    content_type="application/json")
            if wrong.status_code != 415:
                walk.failures.append(f"{role} form as json: {target.method} {base} -> {wrong.status_code}")


async def _json_cases(walk: Walk, target: Target, base: str, role: str) -> None:
    members = target.json_fields or []
    # Every member meets every value once, each request mixing them (member i gets value i + shift).
    for shift in range(len(JSON_PASSED)):
        values = {m: JSON_PASSED[(i + shift) % len(JSON_PASSED)] for i, m in enumerate(members)}
        await walk.send(target.method, base, f"{role} json {shift}", content=json.dumps(values).encode(),
                        content_type="application/json", api=True)
    deep = b'{"a":' * 2000 + b"1" + b"}" * 2000
    await walk.send(target.method, base, f"{role} json deep", content=deep, content_type="application/json", api=True)
    plain = await walk.send(target.method, base, f"{role} json text/plain", content=b'{"body": "x"}',
                            content_type="text/plain", api=True)
    if plain.status_code != 415:
        walk.failures.append(f"{role} json as text/plain: {target.method} {base} -> {plain.status_code}")
    await walk.send(target.method, base, f"{role} json not json", content=b"{nope",
                    content_type="application/json", api=True)


@pytest.mark.slow
async def test_hostile_values_on_every_route_as_every_role(app: object, client: httpx.AsyncClient,
                                                           db: AsyncSession) -> None:
    from tests.factories import make_token
    from voice.accounts.models import User

    ids, people = await _world(db)
    walks: list[Walk] = []
    for role in ("anonymous", "citizen", "judge", "staff", "admin"):
        client.cookies.clear()
        token = None
        if role != "anonymous":
            await csrf_token(client)
            signed = await client.post("/signin", data={"email": people[role], "password": PASSWORD,
                                                        "_csrf_token": client.cookies["voice_csrf"]})
            assert signed.status_code == 303, signed.text[:300]
            user = (await db.execute(text("SELECT id FROM user_account WHERE email = :e"),
                                     {"e": people[role]})).scalar_one()
            token = await make_token(db, await db.get(User, user))
            # The two-factor page keeps the secret its QR code shows until a code confirms it; a refused code
            # re-shows the same secret. Visited first, as a person would, so that is not counted as a write.
            await client.get("/account/two-factor")
        else:
            await csrf_token(client)
        walk = Walk(client, db, token)
        walk.before = await _fingerprint(db)
        if role == "admin":
            await _refused_everywhere(walk, app, ids)
        await _walk_as(walk, app, ids, role)
        walks.append(walk)
    failures = [f for w in walks for f in w.failures]
    total = sum(w.requests for w in walks)
    assert total > 2500, total
    assert not failures, f"{len(failures)} of {total} requests failed:\n" + "\n".join(failures[:300])
    stored = await _hidden_characters(db)
    assert not stored, f"control characters or direction overrides stored in {stored}"


async def _hidden_characters(db: AsyncSession) -> list[str]:
    """Columns of any table (but the key-value store) where a stored text holds a C0 control other than tab
    and line breaks, or a direction override."""
    columns = (await db.execute(text(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND data_type IN ('text', 'character varying') AND table_name NOT LIKE 'procrastinate%' "
        "AND table_name <> 'kv_store'"))).all()
    pattern = "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\u202a-\\u202e\\u2066-\\u2069]"
    checks = [f"SELECT '{t}.{c}' WHERE EXISTS (SELECT 1 FROM \"{t}\" WHERE \"{c}\" ~ :pattern)"  # noqa: S608
              for t, c in columns]
    return list((await db.execute(text(" UNION ALL ".join(checks)), {"pattern": pattern})).scalars())


# ----- the hygiene layer's answers, one per surface (fast) -------------------------------------------


async def test_refusals_come_in_the_visitors_language_on_every_surface(client: httpx.AsyncClient,
                                                                       db: AsyncSession) -> None:
    from tests.factories import make_agency

    await make_agency(db, "passports")
    page = await client.get("/feedback?agency=%00")
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert 'lang="ar"' in page.text and "رموز تحكم" in page.text
    english = await client.get("/you-said-we-did?agency=%FF&lang=en")
    assert english.status_code == 400 and "not valid UTF-8" in english.text
    api = await client.get("/api/v1/ideas?q=%00abc")
    assert api.status_code == 400 and api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["errors"] == {"q": api.json()["detail"]}
    open311 = await client.get("/open311/v2/requests.json?service_code=%E2%80%AE")
    assert open311.status_code == 400 and open311.json()[0]["code"] == 400
    assert "اتجاه الكتابة" in open311.json()[0]["description"]
    path = await client.get("/track/AB%00CD")
    assert path.status_code == 400


async def test_bodies_refused_before_any_handler_store_nothing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from sqlalchemy import func, select

    from tests.conftest import post_form
    from tests.factories import make_agency
    from voice.feedback.models import Feedback

    await make_agency(db, "passports")
    good = {"agency": "passports", "kind": "complaint", "submitter_kind": "individual",
            "body": "تطبيق الجوازات لا يرسل رمز التحقق"}
    deep = b'{"agency": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    answers = {
        "deep json": await client.post("/api/v1/feedback", content=deep, headers={"content-type": "application/json"}),
        "lone surrogate": await client.post("/api/v1/feedback", headers={"content-type": "application/json"},
                                            content=json.dumps({**good, "body": "نص \ud800 هنا"}).encode()),
        "not json": await client.post("/api/v1/feedback", content=b"{", headers={"content-type": "application/json"}),
        "text/plain": await client.post("/api/v1/feedback", content=json.dumps(good).encode(),
                                        headers={"content-type": "text/plain"}),
        "repeated field": await post_form(client, "/feedback", {**good, "body": [good["body"], "ثانية ثانية"]}),
        "invalid utf-8": await client.post("/feedback", content=b"agency=passports&kind=complaint&body=%C3%28%C3%28",
                                           headers={"content-type": "application/x-www-form-urlencoded",
                                                    "x-csrftoken": client.cookies["voice_csrf"]}),
        "json at a form route": await client.post("/feedback", content=json.dumps(good).encode(), headers={
            "content-type": "application/json", "x-csrftoken": client.cookies["voice_csrf"]}),
    }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses == {"deep json": 400, "lone surrogate": 400, "not json": 400, "text/plain": 415,
                        "repeated field": 400, "invalid utf-8": 400, "json at a form route": 415}, statuses
    assert answers["deep json"].json()["title"] and "JSON" in answers["deep json"].json()["detail"]
    assert "مرة" in answers["repeated field"].text  # "sent more than once", in Arabic
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 0
    # The same request, well-formed, goes through: the layer refuses only what it should.
    ok = await client.post("/api/v1/feedback", json=good)
    assert ok.status_code == 201, ok.text
    form = await post_form(client, "/feedback", good)
    assert form.status_code == 303
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 2


# ----- operations: metrics, "me too", exports ----------------------------------------------------------


async def test_metrics_only_for_the_scraper_with_its_token(client: httpx.AsyncClient) -> None:
    from tests.conftest import SCRAPER

    nobody = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert nobody.status_code == wrong.status_code == 404
    assert "voice_requests_total" not in nobody.text + wrong.text
    scraper = await client.get("/metrics", headers=SCRAPER)
    assert scraper.status_code == 200 and "voice_requests_total" in scraper.text


async def test_me_too_cannot_be_inflated_by_dropping_the_cookie(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from tests.factories import make_agency

    agency = await make_agency(db, "passports")
    item = await IntakeService(db).submit(Submission(agency=agency.slug, publish=True,
                                                     body="تطبيق الجوازات لا يرسل رمز التحقق منذ يومين"))
    await db.commit()
    for _ in range(10):  # a fresh client each time: no cookie of any kind is kept
        client.cookies.clear()
        token = await csrf_token(client)
        answer = await client.post(f"/feedback/{item.id}/support", data={"_csrf_token": token},
                                   headers={"referer": "https://evil.example/phish"})
        assert answer.status_code == 303
        # Back to a page of ours, never to another site's address.
        assert answer.headers["location"].startswith("/") and "evil" not in answer.headers["location"]
    await db.refresh(item)
    assert item.supporters == 1
    same_site = await client.post(f"/feedback/{item.id}/support", data={"_csrf_token": token},
                                  headers={"referer": "http://testserver/feedback?agency=passports"})
    assert same_site.headers["location"] == "/feedback?agency=passports"


async def test_csv_exports_keep_empty_cells_empty_and_neutralise_formulas(client: httpx.AsyncClient,
                                                                         db: AsyncSession) -> None:
    import csv
    import io

    from tests.factories import make_agency
    from voice.web.exports import to_csv

    rows = list(csv.reader(io.StringIO(to_csv(["a", "b", "c", "d", "e"],
                                              [["", "=1+1", "-2", "\tx", None], [3, "@SUM(A1)", "+x", "ok", ""]])
                                       .decode("utf-8-sig"))))
    assert rows[1] == ["", "'=1+1", "'-2", "'\tx", ""]
    assert rows[2] == ["3", "'@SUM(A1)", "'+x", "ok", ""]
    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    await IntakeService(db).submit(Submission(agency="passports", body="=HYPERLINK(\"http://x\") الخدمة متوقفة"))
    await db.commit()
    await csrf_token(client)
    await client.post("/signin", data={"email": staff.email, "password": PASSWORD,
                                       "_csrf_token": client.cookies["voice_csrf"]})
    export = await client.get("/agency/export/inbox.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].count("charset") == 1, export.headers["content-type"]
    cells = [c for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig"))) for c in row]
    assert "'" not in cells and any(c.startswith("'=HYPERLINK") for c in cells)
