"""The app as the browser tests' uvicorn serves it: ``uvicorn tests.browser.serve:create --factory``.

Everything comes from the environment the fixture sets (DATABASE_URL of the test database,
VOICE_SECURE_COOKIES=false because the server speaks plain http on the loopback, VOICE_RATE_LIMIT=off,
VOICE_INPROCESS_WORKER=on so theme refresh jobs run inside the server as in the embedded default).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from litestar import Litestar

from voice.settings import PROJECT_ROOT


def create() -> Litestar:
    from voice.app import create_app
    from voice.settings import Settings

    return create_app(Settings.from_env())


@contextmanager
def running_server(database_url: str, log_path: Path, **env: str) -> Iterator[str]:
    """Start ``uvicorn tests.browser.serve:create --factory`` on a free loopback port; yield its base URL.

    Raises RuntimeError when the server exits or does not answer /health within a minute.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "live-test-secret-" + "y" * 32,
        "VOICE_DATA_DIR": str(PROJECT_ROOT / ".data" / "test"),
        "VOICE_BASE_URL": base,
        "VOICE_SECURE_COOKIES": "false",
        "VOICE_RATE_LIMIT": "off",
        "VOICE_INPROCESS_WORKER": "on",
        "VOICE_LOG_LEVEL": "WARNING",
        **env,
    }
    # One log per xdist worker: two workers' servers must not write over each other's.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        log_path = log_path.with_name(f"{log_path.stem}-{worker}{log_path.suffix}")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tests.browser.serve:create", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log"],
            cwd=PROJECT_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the test server exited with {proc.returncode}; see {log_path}")
                try:
                    with urllib.request.urlopen(base + "/health", timeout=2) as answer:  # noqa: S310 - loopback
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the test server did not answer /health within 60 s; see {log_path}")
                time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
