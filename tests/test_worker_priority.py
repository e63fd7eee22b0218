"""The job worker's lower CPU priority covers every thread of its process, including those started
before it lowered it (numpy's OpenBLAS pool starts on import), which would otherwise run a refresh's
matrix products at the web's priority; and the PostgreSQL backends doing its queries on this machine.
Checked in child processes, so the test's own priority stays."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from voice.settings import PROJECT_ROOT

CHILD = """
import json, os, threading
import numpy  # starts OpenBLAS's threads at the priority the process has now
started = threading.Event()
early = threading.Thread(target=started.wait, daemon=True)
early.start()
base = os.getpriority(os.PRIO_PROCESS, 0)
from voice.priority import lower_priority, threads_of
lower_priority(5)
late = threading.Thread(target=started.wait, daemon=True)  # started afterwards: inherits the new value
late.start()
try:  # "/autogroup-<n> nice <v>": the scheduling group of the session (Linux with autogroup)
    group = int(open("/proc/self/autogroup").read().split()[-1])
except OSError:
    group = None
print(json.dumps({"base": base, "threads": {tid: os.getpriority(os.PRIO_PROCESS, tid) for tid in threads_of()},
                  "group": group}))
started.set()
"""


def test_lower_priority_reaches_every_thread_started_before_and_after() -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src"), "OPENBLAS_NUM_THREADS": "2"}
    # A session of its own, as `voice run` starts its worker: with autogroup the kernel shares the CPU
    # between sessions before nice values count, so the session's group is lowered too.
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, check=True,
                         start_new_session=True)
    seen = json.loads(out.stdout)
    threads, lowered = seen["threads"], min(19, seen["base"] + 5)
    assert len(threads) >= 4, threads  # main, OpenBLAS's, the early and the late thread
    assert set(threads.values()) == {lowered}, threads
    assert seen["group"] in (None, lowered), seen  # None: a kernel without autogroup


BACKEND = """
import asyncio, json, os, sys
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from voice.priority import backends_follow, lower_priority

async def main(url):
    lower_priority(5)
    engine = create_async_engine(url)
    backends_follow(engine)
    async with engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        print(json.dumps({"mine": os.getpriority(os.PRIO_PROCESS, 0), "backend": os.getpriority(os.PRIO_PROCESS, pid)}))
    await engine.dispose()

asyncio.run(main(sys.argv[1]))
"""


def test_a_lowered_process_has_its_postgresql_backends_on_this_machine_lowered_too(database_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", BACKEND, database_url], capture_output=True, text=True, env=env,
                         check=True)
    seen = json.loads(out.stdout)
    assert seen["backend"] == seen["mine"] > 0, seen
