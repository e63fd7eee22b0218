"""What a slice brings to the platform, declared in one place (as a component registers itself with
the core in Decidim): its routes, its background tasks, its own settings section, what it keeps per
web process.

Each slice has a ``component.py`` that builds one ``Component``; ``voice.platform`` lists them in the
documented slice order, and the app factory, the worker and the CLI read that list. The core never
imports a slice to find out what it offers. Tables and theme sources register themselves when a
slice's models are imported (SQLAlchemy's registry and ``voice.themes.sources``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Component:
    name: str
    # Controllers and route functions, mounted by the app factory.
    route_handlers: Sequence[Any] = ()
    # Background tasks declared by the slice (procrastinate tasks); a worker runs what these declare.
    tasks: Sequence[Any] = ()
    # The slice's settings section: read once from the environment at start-up, then handed to the
    # slice's services through the app's state (``request.app.state.sections[name]``).
    settings: Callable[[], Any] | None = None
    # Lifespan context managers of the web app (``async with lifespan(app)``), e.g. a per-process queue.
    lifespans: Sequence[Callable[[Any], AbstractAsyncContextManager[None]]] = ()
