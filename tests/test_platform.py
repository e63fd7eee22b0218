"""The platform shell: health, error answers, static assets, OpenAPI, metrics and the database connection."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from tests.conftest import SCRAPER, post_form


async def test_health_reports_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


@pytest.mark.parametrize("url", [
    "postgresql+asyncpg://nobody@127.0.0.1:1/none",  # TCP: connection refused
    "postgresql+asyncpg://nobody@/none?host=/nonexistent-voice-socket-dir",  # a local server restarting
])
async def test_health_is_503_when_database_is_unreachable(database_url: str, url: str) -> None:
    from asgi_lifespan import LifespanManager

    from tests.conftest import test_settings
    from voice.app import create_app

    # Nobody listens there: the app must fail fast and say so (503), never hang or 500.
    app = create_app(test_settings(url))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await c.get("/health")
            assert response.status_code == 503
            assert response.json()["status"] == "unavailable"
            page = await c.get("/")
            assert page.status_code == 503
            assert "Retry-After" in page.headers
            assert "Traceback" not in page.text
            api = await c.post("/api/v1/feedback", json={"agency": "x", "kind": "complaint",
                                                         "submitter_kind": "individual", "body": "نص تجريبي كاف"})
            assert api.status_code == 503 and api.headers["content-type"].startswith("application/problem+json")


async def test_unknown_page_is_an_arabic_html_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'lang="ar"' in response.text
    assert "لم نجد هذه الصفحة" in response.text


async def test_unknown_page_in_english(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page?lang=en")
    assert response.status_code == 404
    assert "We could not find this page." in response.text


async def test_api_errors_are_problem_details(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404 and body["title"]


async def test_api_error_language_follows_accept_language(client: httpx.AsyncClient) -> None:
    english = await client.get("/api/v1/nope", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.json()["title"] == "We could not find this page."
    arabic = await client.get("/api/v1/nope", headers={"Accept-Language": "ar-SA"})
    assert arabic.json()["title"] == "لم نجد هذه الصفحة."


async def test_wrong_method_is_405_not_500(client: httpx.AsyncClient) -> None:
    response = await client.delete("/")
    assert response.status_code == 405
    api = await client.put("/api/v1/agencies")
    assert api.status_code == 405
    assert api.headers["content-type"].startswith("application/problem+json")


async def test_static_assets_are_served_locally(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    for path in ("/static/vendor/htmx/htmx.min.js", "/static/vendor/bootstrap/bootstrap.rtl.min.css",
                 "/static/css/app.css", "/static/css/fonts.css",
                 "/static/vendor/fonts/ibm-plex-sans-arabic/ibm-plex-sans-arabic-arabic-400-normal.woff2"):
        assert (await client.get(path)).status_code == 200, path
    assert "cdn" not in page.lower() and "https://" not in page


async def test_pages_link_static_files_that_are_cached_for_good(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    linked = re.findall(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{16})"', page)
    assert {path for path, _ in linked} >= {"/static/css/app.css", "/static/css/fonts.css",
                                            "/static/vendor/htmx/htmx.min.js", "/static/js/app.js"}
    for path, fingerprint in linked:
        answer = await client.get(f"{path}?v={fingerprint}")
        assert answer.status_code == 200 and "immutable" in answer.headers["cache-control"], path
        # The fingerprint is the content's: another build's (a stale page) is not cached for good.
        assert "immutable" not in (await client.get(f"{path}?v=0000000000000000")).headers["cache-control"]
    # Fonts are named from the stylesheet through fingerprinted URLs as well.
    fonts_css = next(p + "?v=" + f for p, f in linked if p.endswith("fonts.css"))
    fonts = re.findall(r'url\("(/static/[^"]+\.woff2\?v=[0-9a-f]{16})"\)', (await client.get(fonts_css)).text)
    assert fonts and "immutable" in (await client.get(fonts[0])).headers["cache-control"]


async def test_unfingerprinted_static_files_revalidate_with_etags(client: httpx.AsyncClient) -> None:
    first = await client.get("/static/css/app.css")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
    again = await client.get("/static/css/app.css", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    changed = await client.get("/static/css/app.css", headers={"If-None-Match": '"0123456789abcdef"'})
    assert changed.status_code == 200 and changed.content == first.content
    for outside in ("/static/../settings.py", "/static/%2e%2e/settings.py", "/static/nothing-here.css"):
        assert (await client.get(outside)).status_code == 404, outside


async def test_openapi_schema_and_docs_page(client: httpx.AsyncClient) -> None:
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/agencies" in paths and "/health" in paths
    docs = await client.get("/schema")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn.jsdelivr" not in docs.text


@pytest.mark.parametrize("body", [b"\xff\xfe\xfa", b"email=%FF%FE&password=x"])
async def test_garbage_form_bodies_are_4xx(client: httpx.AsyncClient, body: bytes) -> None:
    from tests.conftest import csrf_token

    token = await csrf_token(client)
    response = await client.post("/signin", content=body, headers={
        "content-type": "application/x-www-form-urlencoded", "x-csrftoken": token})
    assert 400 <= response.status_code < 500


async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/signin", {"email": "a@example.sa", "password": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


async def test_prometheus_metrics_group_paths_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/track/AAAA-AAAA-AAAA")
    await client.get("/health")
    metrics = await client.get("/metrics", headers=SCRAPER)
    assert metrics.status_code == 200
    assert "voice_requests_total" in metrics.text
    assert "AAAA-AAAA-AAAA" not in metrics.text  # tracking codes never become labels
    assert "/track/{code" in metrics.text


@pytest.mark.parametrize("idle_seconds", [0.05, 3600])
async def test_pooled_connection_killed_while_idle(database_url: str, idle_seconds: float) -> None:
    """An idle pooled connection is pinged before use and replaced if dead; one used within the last
    ``idle_seconds`` is trusted, so its death fails one statement, after which the pool reconnects."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from voice.db import ping_idle_connections

    engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle_seconds=idle_seconds)
    try:
        async with engine.connect() as conn:
            first_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        async with engine.connect() as again:  # the pool's only connection, checked out again
            assert await again.scalar(text("SELECT pg_backend_pid()")) == first_pid
        killer = create_async_engine(database_url)
        async with killer.connect() as other:
            assert await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        await killer.dispose()
        await asyncio.sleep(0.2)
        if idle_seconds < 0.2:
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT pg_backend_pid()")) != first_pid
        else:
            with pytest.raises(DBAPIError) as failed:
                async with engine.connect() as conn:
                    await conn.scalar(text("SELECT 1"))
            assert failed.value.connection_invalidated
            async with engine.connect() as conn:  # the dead connection was replaced
                assert await conn.scalar(text("SELECT pg_backend_pid()")) != first_pid
    finally:
        await engine.dispose()


async def test_refused_commit_is_not_reported_as_success(database_url: str) -> None:
    """A commit that fails after the handler succeeded never answers the success page: a constraint checked
    at COMMIT is the request's fault (409, in the visitor's language), any other failure is a 503."""
    from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
    from litestar import Litestar, post
    from litestar.testing import AsyncTestClient

    from voice.web.transactions import commit_before_answer

    @post("/api/deferred")
    async def deferred(db_session: AsyncSession) -> dict:
        # A deferred unique constraint is checked at COMMIT: the handler itself succeeds.
        await db_session.execute(text("CREATE TEMP TABLE t (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
        await db_session.execute(text("INSERT INTO t VALUES (1), (1)"))
        return {"saved": True}

    @post("/deferred-page")
    async def deferred_page(db_session: AsyncSession) -> str:
        await db_session.execute(text("CREATE TEMP TABLE t (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
        await db_session.execute(text("INSERT INTO t VALUES (1), (1)"))
        return "saved"

    @post("/api/failing")
    async def failing(db_session: AsyncSession) -> dict:
        # A deferred trigger that fails at COMMIT for a reason that is not the request's data.
        await db_session.execute(text("CREATE TEMP TABLE f (x int)"))
        await db_session.execute(text(
            "CREATE FUNCTION pg_temp.fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'disk quota exceeded' USING ERRCODE = '53100'; END $$"))
        await db_session.execute(text(
            "CREATE CONSTRAINT TRIGGER fail AFTER INSERT ON f DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.fail()"))
        await db_session.execute(text("INSERT INTO f VALUES (1)"))
        return {"saved": True}

    @post("/api/kept", status_code=201)
    async def kept(db_session: AsyncSession) -> dict:
        await db_session.execute(text("CREATE TABLE IF NOT EXISTS commit_probe (x int)"))
        await db_session.execute(text("INSERT INTO commit_probe VALUES (1)"))
        return {"saved": True}

    @post("/api/refused", status_code=422)
    async def refused(db_session: AsyncSession) -> dict:
        await db_session.execute(text("CREATE TABLE IF NOT EXISTS commit_probe (x int)"))
        await db_session.execute(text("INSERT INTO commit_probe VALUES (2)"))
        return {"saved": False}

    config = SQLAlchemyAsyncConfig(connection_string=database_url)
    config.before_send_handler = commit_before_answer(config.session_scope_key)
    app = Litestar([deferred, deferred_page, failing, kept, refused], plugins=[SQLAlchemyPlugin(config=config)])
    async with AsyncTestClient(app) as client:
        api = await client.post("/api/deferred")
        assert api.status_code == 409 and "retry-after" not in api.headers
        assert api.headers["content-type"] == "application/problem+json" and "saved" not in api.text
        assert api.json()["title"] == "يتعارض هذا مع الحالة الحالية للسجل."
        page = await client.post("/deferred-page")
        assert page.status_code == 409 and 'dir="rtl"' in page.text and "saved" not in page.text
        assert int(page.headers["content-length"]) == len(page.content)
        down = await client.post("/api/failing")
        assert down.status_code == 503 and down.headers["retry-after"] == "5" and "saved" not in down.text
        assert down.json()["title"] == "الخدمة غير متاحة مؤقتًا. يُرجى المحاولة بعد قليل."
        assert (await client.post("/api/kept")).status_code == 201
        assert (await client.post("/api/refused")).status_code == 422
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT array_agg(x) FROM commit_probe"))).scalar() == [1]
            await conn.execute(text("DROP TABLE commit_probe"))
    finally:
        await engine.dispose()


async def test_metrics_report_job_queue_intake_and_pool(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from tests.factories import make_agency

    def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(body) for s in family.samples}

    before = samples((await client.get("/metrics", headers=SCRAPER)).text)
    await make_agency(db, "passports")
    await db.execute(text("INSERT INTO procrastinate_jobs (queue_name, task_name, args, scheduled_at) "
                          "VALUES ('themes', 'voice.refresh_themes', '{}', now() - interval '90 seconds')"))
    await db.commit()
    for i in range(3):
        sent = await client.post("/api/v1/feedback", json={"agency": "passports", "kind": "complaint",
                                                           "submitter_kind": "individual", "body": f"نص تجريبي رقم {i}"})
        assert sent.status_code == 201
    after = samples((await client.get("/metrics", headers=SCRAPER)).text)
    assert after[("voice_jobs", (("queue", "themes"), ("status", "todo")))] == 1
    assert after[("voice_jobs", (("queue", "themes"), ("status", "failed")))] == 0
    assert 90 <= after[("voice_jobs_oldest_waiting_seconds", (("queue", "themes"),))] < 600
    assert after[("voice_intake_rows_total", ())] - before.get(("voice_intake_rows_total", ()), 0) == 3
    assert after[("voice_db_pool_size", ())] >= 1
    await db.execute(text("DELETE FROM procrastinate_jobs"))
    await db.commit()
    emptied = samples((await client.get("/metrics", headers=SCRAPER)).text)
    assert emptied[("voice_jobs", (("queue", "themes"), ("status", "todo")))] == 0


async def test_openapi_states_the_input_rules_the_api_enforces(client: httpx.AsyncClient) -> None:
    """What the description calls valid is what the API accepts: every free-text string carries the hygiene
    layer's refused characters as a pattern, a struct that refuses unknown members is closed, ids stop where
    JSON clients still read integers exactly; and a value outside them is refused with a clear answer."""
    import re

    from voice.ids import MAX_ID
    from voice.text import MAX_BODY, MIN_BODY
    from voice.web.hygiene import FORBIDDEN
    from voice.web.openapi import TEXT_PATTERN

    description = (await client.get("/schema/openapi.json")).json()
    feedback_in = description["components"]["schemas"]["FeedbackIn"]
    assert feedback_in["additionalProperties"] is False
    assert feedback_in["properties"]["body"]["pattern"] == TEXT_PATTERN
    for refused in ("\x00", "\x1b", "\x7f", "\u202e", "\u2066"):
        assert FORBIDDEN.search(refused) and not re.match(TEXT_PATTERN, f"a{refused}b")
    assert re.match(TEXT_PATTERN, "سطر\nوسطر\tآخر")
    idea = description["paths"]["/api/v1/ideas/{idea_id}"]["get"]["parameters"][0]["schema"]
    assert idea["maximum"] == MAX_ID == 2**53 - 1

    # msgspec's own refusal (a member the struct does not have) reaches the client as a localized problem.
    unknown = await client.post("/api/v1/feedback", json={"agency": "x", "kind": "complaint",
                                                          "submitter_kind": "individual", "body": "نص الملاحظة",
                                                          "surprise": 1}, headers={"Accept-Language": "ar"})
    assert unknown.status_code == 400 and unknown.headers["content-type"].startswith("application/problem+json")
    assert unknown.json()["title"] == "تعذّر فهم الطلب."

    # A bound the struct declares (clean_body's, published as minLength/maxLength) is refused by msgspec in the
    # service's own words, on the field.
    assert (feedback_in["properties"]["body"]["minLength"], feedback_in["properties"]["body"]["maxLength"]) == (
        MIN_BODY, MAX_BODY)
    short = await client.post("/api/v1/feedback", json={"agency": "x", "kind": "complaint", "body": "قصير",
                                                        "submitter_kind": "individual"},
                              headers={"Accept-Language": "ar"})
    assert short.status_code == 400
    assert short.json()["errors"] == {"body": "يُرجى كتابة ٥ أحرف على الأقل."}


async def test_openapi_states_the_rules_each_service_applies(client: httpx.AsyncClient) -> None:
    """Closed sets, bounds, patterns and formats come from the enums and constants the services check
    (voice.web.openapi.documented), and what JSON Schema cannot state is listed in the operation's 422."""
    import re

    from ideas.texts import MAX_TITLE, MIN_TITLE
    from voice.accounts.models import Role
    from voice.administration.catalogue import FEEDBACK_KINDS, SLA_MAX, SLA_MIN
    from voice.catalogue.models import SLUG
    from voice.feedback.models import FeedbackKind

    description = (await client.get("/schema/openapi.json")).json()
    schemas = description["components"]["schemas"]
    feedback_in = schemas["FeedbackIn"]["properties"]
    assert feedback_in["kind"]["enum"] == [k.value for k in FeedbackKind]
    assert (feedback_in["rating"]["minimum"], feedback_in["rating"]["maximum"]) == (1, 5)
    assert feedback_in["channel"]["enum"] == ["api", "mobile", None]  # an optional field's null stays valid
    assert feedback_in["agency"]["pattern"] == f"^(?:{SLUG.pattern})$"
    assert re.match(feedback_in["agency"]["pattern"], "passports") and not re.match(feedback_in["agency"]["pattern"],
                                                                                     "Pass ports")
    assert (schemas["IdeaIn"]["properties"]["title"]["minLength"], schemas["IdeaIn"]["properties"]["title"]
            ["maxLength"]) == (MIN_TITLE, MAX_TITLE)
    assert schemas["UserIn"]["properties"]["role"]["enum"] == [r.value for r in Role]
    sla = schemas["AgencyIn"]["properties"]["sla_by_kind"]
    assert sla["additionalProperties"] is False and set(sla["properties"]) == set(FEEDBACK_KINDS)
    assert {(v["minimum"], v["maximum"]) for v in sla["properties"].values()} == {(SLA_MIN, SLA_MAX)}
    assert schemas["ConsultationIn"]["properties"]["opens_on"]["format"] == "date"
    open311 = description["paths"]["/open311/v2/requests.json"]
    form = open311["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["description", "service_code"]
    assert "true" in form["properties"]["attribute[publish]"]["enum"]
    assert {p["name"]: p["schema"].get("format") for p in open311["get"]["parameters"]}["start_date"] == "date-time"
    submit = description["paths"]["/api/v1/feedback"]["post"]["responses"]["422"]
    assert "`body`" in submit["description"] and "application/problem+json" in submit["content"]

    # Valid by the schema, refused by the rule it lists: five characters, but spaces do not count.
    spaces = await client.post("/api/v1/feedback", json={"agency": "x", "kind": "complaint", "body": "ab   ",
                                                         "submitter_kind": "individual"},
                               headers={"Accept-Language": "ar"})
    assert spaces.status_code == 422 and set(spaces.json()["errors"]) == {"body"}


async def test_openapi_declares_the_bearer_token_where_the_api_takes_it(client: httpx.AsyncClient,
                                                                        db: AsyncSession) -> None:
    """The description names the API token scheme; every API operation says whether it needs a token, and
    says it truly: the ones that require it answer 401 without one, the optional ones answer anonymous
    visitors, and every one answers 401 to a token that is not valid. Pages and /health take none."""
    from tests.factories import make_token, make_user
    from voice.web.openapi import BEARER, TOKEN_OPTIONAL, TOKEN_REQUIRED

    description = (await client.get("/schema/openapi.json")).json()
    scheme = description["components"]["securitySchemes"][BEARER]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    required, optional = [], []
    for path, operations in description["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if not path.startswith(("/api/", "/open311/")):
                assert "security" not in operation, (method, path)
                continue
            security = operation.get("security")
            assert security in (TOKEN_REQUIRED, TOKEN_OPTIONAL), (method, path, security)
            assert "401" in operation["responses"], (method, path)
            (required if security == TOKEN_REQUIRED else optional).append((method.upper(), path))
    assert ("POST", "/api/v1/agency/consultations") in required and ("GET", "/api/v1/me") in required
    assert ("GET", "/api/v1/consultations") in optional and ("POST", "/api/v1/feedback") in optional

    def filled(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "1", path)

    for method, path in required:  # the guard refuses before the body or the id is looked at
        response = await client.request(method, filled(path), json={} if method != "GET" else None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json"), (method, path)
    for method, path in optional:
        if method == "GET" and "{" not in path:  # answered without a token (400: a required query is missing)
            assert (await client.get(path)).status_code in (200, 400), path
        bad = await client.request(method, filled(path), headers={"Authorization": "Bearer voice_not-a-token"},
                                   json={} if method != "GET" else None)
        assert bad.status_code == 401, (method, path, bad.status_code)
    # A valid token passes where one is required.
    token = await make_token(db, await make_user(db))
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
