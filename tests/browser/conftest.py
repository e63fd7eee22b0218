"""Real-browser fixtures: the app served by uvicorn on a loopback port, and headless Chromium.

The server is a separate process (as in production) on the session's test database, with the job
worker in-process so theme refreshes really run. Chromium is Debian's build at /usr/bin/chromium
(Playwright cannot download its own here); when it is missing the tests fail, they do not skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.browser.serve import running_server
from tests.conftest import MailSink, empty_tables
from voice.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("VOICE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on a clean database, as in tests/conftest.py, but the job queue's tables are kept.

    The live server's worker is registered in procrastinate's tables; emptying them under it stops it.
    """
    await empty_tables(engine, keep="procrastinate")
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        yield session


@pytest.fixture(scope="package")
def live_server(database_url: str, mail_sink: MailSink) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, with the job worker in-process; yields its URL.

    Its mail goes to the session's SMTP sink: every live server on the test database runs a worker on
    the same job queue, so a mail queued through one server may be sent by another's worker.
    """
    try:
        with running_server(database_url, ARTIFACTS / "server.log",
                            SMTP_HOST="127.0.0.1", SMTP_PORT=str(mail_sink.port)) as base:
            yield base
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


def _require_chromium() -> None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: the browser tests need it. "
                    "Install it with `apt-get install -y chromium` (what .ci/run does) "
                    "or point VOICE_CHROMIUM at a Chromium binary.", pytrace=False)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    _require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()
