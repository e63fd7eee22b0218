"""API fuzzing with schemathesis against the OpenAPI description the app publishes.

The app runs for real (uvicorn on a loopback port, tests/browser/serve.py) on the test PostgreSQL,
seeded with an agency, a published feedback item and an idea; the generated requests carry the Bearer
token of each role in turn (none for anonymous), so the guarded operations are exercised past their
guards and refused by them.
Every response must pass every check: no 5xx, a declared status code, content type, headers and body,
valid data accepted and invalid data refused, the methods each address has. Only the API surface (/api/,
/open311/, /health) is fuzzed: the HTML form routes refuse any request without a CSRF token.

Bounded for `make test` (VOICE_FUZZ_EXAMPLES, default 15 per operation); `make fuzz` runs 200. Every built-in check runs (as
`--checks all` does), but those listed in EXCLUDED_CHECKS with their reason (none); schema-valid data may be
refused only for the rules JSON Schema cannot state, listed per operation in LEGITIMATE_REFUSALS.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ideas.services import IdeaDraft, IdeaService
from tests.browser.seed import demo_agency
from tests.browser.serve import running_server
from tests.conftest import empty_tables
from tests.factories import make_token, make_user
from voice.accounts.models import Role
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow  # a live server and hundreds of generated requests

EXAMPLES = int(os.environ.get("VOICE_FUZZ_EXAMPLES", "15"))
API_PREFIXES = ("/api/", "/open311/", "/health")
# schemathesis and hypothesis are imported where they are used: importing them costs seconds, which
# every run of the fast loop (which deselects this module) would otherwise pay.


# Checks left out of "all", each with its reason. Empty is the goal; the list is printed with any failure.
EXCLUDED_CHECKS: dict[str, str] = {}

# Rules JSON Schema cannot state, by operation: the status the operation answers when one is broken and the
# fields its answer may name (problem details' `errors`, Open311's "field: reason" list). Each is listed in
# the operation's description of that status (voice.web.openapi.refusals, Open311's errors_doc). A schema-
# valid request refused with that status is accepted by positive_data_acceptance only when every field the
# refusal names is listed here; any other refusal still fails the check.
_TEXTS = {"body", "title", "description", "problem", "title_ar", "title_en", "summary_ar", "summary_en"}
LEGITIMATE_REFUSALS: dict[str, tuple[int, frozenset[str]]] = {
    # At least 5 characters besides spaces and no markup (body); an agency and e-service that exist and are
    # active (references, checked against the catalogue); an e-mail domain that receives mail (not .test);
    # an Idempotency-Key counted without surrounding spaces, and not reused for another request.
    "POST /api/v1/feedback": (422, frozenset({"body", "agency", "service", "contact_email", "Idempotency-Key"})),
    "POST /api/v1/agency/feedback/{feedback_id}/responses": (422, frozenset({"body"})),
    # Lengths counted once spaces are collapsed; references to the catalogue.
    "POST /api/v1/ideas": (422, frozenset({"title", "description", "problem", "agency", "service"})),
    # An e-mail no account has yet (and a domain that receives mail); an agency for the agency roles, one
    # the caller administers; a full name counted once spaces are collapsed.
    "POST /api/v1/admin/users": (422, frozenset({"email", "agency", "full_name"})),
    # A slug no other agency uses; names counted once spaces are collapsed; a mail-receiving domain.
    "POST /api/v1/admin/agencies": (422, frozenset({"slug", "name_ar", "name_en", "contact_email"})),
    "PATCH /api/v1/admin/agencies/{slug}": (422, frozenset({"slug", "name_ar", "name_en", "contact_email"})),
    # The closing day on or after the opening day; each article its own number; texts counted once spaces
    # are collapsed; an active agency named by an administrator's token, or the token's own agency (agency).
    "POST /api/v1/agency/consultations": (422, frozenset({"closes_on", "articles", "agency"} | _TEXTS)),
    # Rules that compare with the consultation as stored: a later closing day; a reason when closing early;
    # decisions on the draft's own articles, each once, with a reason and (added) a text; a view on one of
    # its articles. Texts: 5 characters besides spaces.
    "POST /api/v1/agency/consultations/{consultation_id}/extend": (422, frozenset({"closes_on"})),
    "POST /api/v1/agency/consultations/{consultation_id}/close": (422, frozenset({"reason"})),
    "POST /api/v1/agency/consultations/{consultation_id}/report": (
        422, frozenset({"articles", "reason", "amended_text", "title", "summary"})),
    "POST /api/v1/consultations/{consultation_id}/comments": (422, frozenset({"article", "body"})),
    # The window: the end after the start, at most 90 days, inside the calendar once the default is applied.
    "GET /open311/v2/requests.json": (400, frozenset({"start_date", "end_date"})),
    # 5 characters besides spaces (description); a mail-receiving domain (email).
    "POST /open311/v2/requests.json": (400, frozenset({"description", "email"})),
}


def _refused_fields(response: object) -> set[str]:
    """The fields a refusal names: problem details' `errors`, or the "field: reason" entries of Open311."""
    try:
        body = response.json()  # type: ignore[attr-defined]
    except ValueError:
        return set()
    if isinstance(body, dict):
        return set(body.get("errors") or {})
    return {str(entry.get("description", "")).split(":", 1)[0] for entry in body if isinstance(entry, dict)}


def _legitimate(response: object, case: object) -> bool:
    if response.status_code == 413:  # type: ignore[attr-defined]
        return True  # a body over the size limit, which every write documents (200 articles of 5000 characters)
    status, fields = LEGITIMATE_REFUSALS.get(case.operation.label, (0, frozenset()))  # type: ignore[attr-defined]
    named = _refused_fields(response) if response.status_code == status else set()  # type: ignore[attr-defined]
    return bool(named) and named <= fields


def _checks() -> list[object]:
    """Every built-in schemathesis check (what `schemathesis run --checks all` runs): server errors, status
    codes, content types, response headers and schemas, positive data acceptance, negative data rejection,
    allowed methods, authentication, resource checks), but those in EXCLUDED_CHECKS; positive data acceptance
    lets the refusals in LEGITIMATE_REFUSALS through and judges every other answer itself."""
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    checks = [check for check in CHECKS.get_all() if getattr(check, "__name__", "") not in EXCLUDED_CHECKS]
    return [_but_legitimate_refusals(check) if check.__name__ == "positive_data_acceptance" else check
            for check in checks]


def _but_legitimate_refusals(check: Callable[..., bool | None]) -> Callable[..., bool | None]:
    def positive_data_acceptance(ctx: object, response: object, case: object) -> bool | None:
        return None if _legitimate(response, case) else check(ctx, response, case)

    return positive_data_acceptance


ROLES = ("agency_staff", "anonymous", "citizen", "judge", "admin")
# Every role is fuzzed; the roles other than staff (whose token passes the most guards) with fewer examples
# in `make test` (VOICE_FUZZ_EXAMPLES applies to all in `make fuzz`).
OTHER_EXAMPLES = int(os.environ.get("VOICE_FUZZ_OTHER_EXAMPLES", os.environ.get("VOICE_FUZZ_EXAMPLES", "4")))


@pytest.fixture(scope="module")
async def fuzz_tokens(engine: object) -> dict[str, str | None]:
    """A clean database with something to find, and an API token per role (none for anonymous)."""
    await empty_tables(engine, keep="procrastinate")  # type: ignore[arg-type]
    async with async_sessionmaker(engine, expire_on_commit=False)() as db:  # type: ignore[arg-type]
        db: AsyncSession
        agency = await demo_agency(db, "passports")
        staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
        citizen = await make_user(db)
        await IntakeService(db).submit(Submission(agency="passports", body="تطبيق الجوازات لا يرسل رمز التحقق",
                                                    publish=True, contact_email="hidden@example.sa"))
        await IdeaService(db).submit(IdeaDraft(title="تجديد الجواز من التطبيق",
                                               description="إتاحة تجديد جواز السفر بالكامل عبر التطبيق"), citizen)
        await db.commit()
        tokens: dict[str, str | None] = {"agency_staff": await make_token(db, staff), "anonymous": None,
                                         "citizen": await make_token(db, citizen)}
        for role in (Role.JUDGE, Role.ADMIN):
            tokens[role.value] = await make_token(db, await make_user(db, role))
        return tokens


@pytest.fixture(scope="module")
def fuzz_server(database_url: str, fuzz_tokens: dict[str, str | None]) -> Iterator[str]:
    # No in-process worker: refresh requests queue jobs that nobody needs to run here.
    with running_server(database_url, PROJECT_ROOT / "test-artifacts" / "fuzz-server.log",
                        VOICE_INPROCESS_WORKER="off") as base:
        yield base


@pytest.fixture(scope="module")
def api_schema(fuzz_server: str) -> object:
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{fuzz_server}/schema/openapi.json")
    schema.config.update(base_url=fuzz_server)
    return schema


def _fuzz(operation: object, token: str | None, examples: int) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    checks = _checks()
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: object) -> None:
        case.call_and_validate(checks=checks, headers=headers)  # type: ignore[attr-defined]

    run()


@pytest.mark.parametrize("role", ROLES)
def test_api_operations_hold_their_description(api_schema: object, fuzz_tokens: dict[str, str | None],
                                               role: str) -> None:
    """Each operation in turn, as each role; every failing one is reported (with a curl to reproduce)."""
    examples = EXAMPLES if role == "agency_staff" else OTHER_EXAMPLES
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():  # type: ignore[attr-defined]
        operation = result.ok()
        if not operation.path.startswith(API_PREFIXES):
            continue  # HTML form routes that leak into the description (reported); CSRF answers them 403
        operations += 1
        try:
            _fuzz(operation, fuzz_tokens[role], examples)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"--- {operation.label}\n{exc}")
    assert operations >= 20, f"only {operations} operations in the published description"
    assert not failures, f"{len(failures)} of {operations} operations fail:\n" + "\n".join(failures)
