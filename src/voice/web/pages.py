"""Home page, language switch and the health check."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.response import Template
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from voice import __version__
from voice.catalogue.models import Agency, Service


@get("/", name="home", include_in_schema=False)
async def home(db_session: AsyncSession) -> Template:
    agencies = await db_session.scalar(select(func.count()).select_from(Agency).where(Agency.is_active.is_(True)))
    services = await db_session.scalar(select(func.count()).select_from(Service).where(Service.is_active.is_(True)))
    return Template("home.html", context={"stats": {"agencies": agencies or 0, "services": services or 0}})


@get("/health", name="health", tags=["operations"], summary="Liveness and database reachability", cache=False)
async def health(request: Request) -> Response[dict[str, Any]]:
    """200 only when PostgreSQL answers within two seconds; 503 otherwise (load balancers use this)."""
    db_config = request.app.state.db_config
    try:
        async with asyncio.timeout(2), db_config.get_session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready", whatever its kind
        return Response({"status": "unavailable", "database": type(exc).__name__, "version": __version__},
                        status_code=503)
    return Response({"status": "ok", "database": "ok", "version": __version__})
