"""The `voice` command: run the platform, migrate, load demo data, manage users, run workers."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from voice.settings import get_settings

T = TypeVar("T")


def _run(make: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(make())  # type: ignore[arg-type]


def _database_url() -> str:
    from voice.db import resolve_database_url

    return resolve_database_url(get_settings())


async def _with_session(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(session)`` in one transaction on a short-lived engine, then dispose of it."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    import voice.models  # noqa: F401  (every mapper configured before the first query)

    engine = create_async_engine(_database_url())
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


@click.group()
def main() -> None:
    """Voice (صوت): feedback on government e-services, ideas and award evidence."""
    logging.basicConfig(level=get_settings().log_level, format="%(levelname)s %(name)s: %(message)s")
    # pgserver narrates every pg_ctl call at INFO; its warnings are what matter here.
    logging.getLogger("pgserver").setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from voice.migrate import upgrade

    upgrade(_database_url(), revision)
    click.echo(f"database at {revision}")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (developers)."""
    from voice.migrate import revision

    revision(_database_url(), message)


@db.command("check")
def db_check() -> None:
    """Fail if the models and the migrations differ."""
    from voice.migrate import check

    check(_database_url())
    click.echo("no drift")


@main.group()
def demo() -> None:
    """Demonstration data."""


@demo.command("load")
@click.option("--force", is_flag=True, help="Load even when the database already has agencies.")
def demo_load(force: bool) -> None:
    """Load realistic demo data (agencies, services, accounts, feedback, ideas)."""
    from voice.demo.loader import load_demo

    summary = _run(lambda: _with_session(lambda s: load_demo(s, force=force)))
    click.echo(summary)


@main.group()
def user() -> None:
    """Accounts."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True,
              type=click.Choice(["citizen", "agency_staff", "agency_admin", "judge", "admin"]))
@click.option("--agency", "agency_slug", default=None, help="Agency slug (staff roles).")
@click.option("--name", default=None)
@click.option("--token", is_flag=True, help="Also issue an API token and print it.")
def user_create(email: str, password: str, role: str, agency_slug: str | None, name: str | None,
                token: bool) -> None:
    """Create an account of any role."""
    from voice.accounts.models import Role
    from voice.accounts.services import TokenService, UserService
    from voice.catalogue.services import AgencyService
    from voice.errors import DomainError

    async def work(session: Any) -> str | None:
        agency = await AgencyService(session=session).by_slug(agency_slug) if agency_slug else None
        account = await UserService(session=session).create_user(
            email=email, password=password, role=Role(role), full_name=name, agency=agency
        )
        return await TokenService(session=session).issue(account, "cli") if token else None

    try:
        issued = _run(lambda: _with_session(work))
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"created {role} {email}")
    if issued:
        click.echo(issued)


def _system_actor() -> Any:
    """Who the CLI acts as: a platform administrator that is nobody (audit events show "the system")."""
    from voice.accounts.models import Role, User

    return User(role=Role.ADMIN, full_name="Voice", email="cli@voice.local", is_active=True)


def _admin_run(work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run ``work(session, actor)`` in one transaction; domain refusals become a clean CLI error."""
    from voice.errors import DomainError

    try:
        return _run(lambda: _with_session(lambda session: work(session, _system_actor())))
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        raise click.ClickException(details or exc.message) from exc


@user.command("invite")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["citizen", "agency_staff", "agency_admin", "judge", "admin"]))
@click.option("--agency", "agency_slug", default="", help="Agency slug (staff roles).")
@click.option("--name", default="")
def user_invite(email: str, role: str, agency_slug: str, name: str) -> None:
    """Invite someone by e-mail: they set their own password (the link is valid for seven days)."""
    from voice.administration.people import Invitation, PeopleService

    _admin_run(lambda s, actor: PeopleService(session=s).invite(actor, Invitation(email, role, agency_slug, name)))
    click.echo(f"invited {email} as {role}")


@user.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(["citizen", "agency_staff", "agency_admin", "judge", "admin"]))
@click.option("--agency", "agency_slug", default="")
def user_role(email: str, role: str, agency_slug: str) -> None:
    """Change someone's role (and agency)."""
    from voice.administration.people import PeopleService

    async def work(session: Any, actor: Any) -> None:
        people = PeopleService(session=session)
        await people.change_role(actor, await _user_id(session, email), role, agency_slug)

    _admin_run(work)
    click.echo(f"{email} is now {role}")


async def _user_id(session: Any, email: str) -> int:
    from voice.accounts.services import UserService
    from voice.errors import NotFound

    found = await UserService(session=session).by_email(email)
    if found is None:
        raise NotFound(f"no account with the e-mail {email}")
    return found.id


def _account_action(action: str, doc: str) -> None:
    @user.command(action.replace("_", "-"), help=doc)
    @click.argument("email")
    def command(email: str) -> None:
        from voice.administration.people import PeopleService

        async def work(session: Any, actor: Any) -> None:
            await PeopleService(session=session).act(actor, await _user_id(session, email), action)

        _admin_run(work)
        click.echo(f"{action.replace('_', ' ')}: {email}")


for _action, _doc in (("deactivate", "Deactivate an account (its sessions and API tokens end)."),
                      ("reactivate", "Reactivate an account."),
                      ("unlock", "Forget failed sign-ins on an account."),
                      ("reset_password", "Make the password unusable and e-mail a reset link."),
                      ("revoke_tokens", "Revoke all API tokens of an account."),
                      ("reset_two_factor", "Turn two-factor sign-in off (enrolment again at next sign-in).")):
    _account_action(_action, _doc)


@main.group()
def agency() -> None:
    """Agencies and their e-services."""


@agency.command("add")
@click.option("--slug", required=True)
@click.option("--name-ar", required=True)
@click.option("--name-en", required=True)
@click.option("--sla-days", default=5, show_default=True)
@click.option("--contact-email", default="")
def agency_add(slug: str, name_ar: str, name_en: str, sla_days: int, contact_email: str) -> None:
    """Add an agency."""
    from voice.administration.catalogue import CatalogueAdminService

    _admin_run(lambda s, actor: CatalogueAdminService(session=s).create_agency(actor, {
        "slug": slug, "name_ar": name_ar, "name_en": name_en, "sla_days": sla_days, "contact_email": contact_email}))
    click.echo(f"agency {slug} added")


@agency.command("set")
@click.argument("slug")
@click.option("--sla-days", default=None, type=int)
@click.option("--sla", "sla_kind", multiple=True, help="KIND=DAYS, e.g. complaint=3 (repeatable).")
@click.option("--active/--inactive", default=None)
@click.option("--contact-email", default=None)
def agency_set(slug: str, sla_days: int | None, sla_kind: tuple[str, ...], active: bool | None,
               contact_email: str | None) -> None:
    """Change an agency's SLAs, contact or active state."""
    from voice.administration.catalogue import CatalogueAdminService

    data: dict[str, Any] = {k: v for k, v in (("sla_days", sla_days), ("is_active", active),
                                              ("contact_email", contact_email)) if v is not None}
    if sla_kind:
        data["sla_by_kind"] = dict(item.split("=", 1) for item in sla_kind if "=" in item)
    _admin_run(lambda s, actor: CatalogueAdminService(session=s).update_agency(actor, slug, data))
    click.echo(f"agency {slug} updated")


@agency.command("list")
def agency_list() -> None:
    """Agencies with their SLA and e-services."""
    from voice.administration.catalogue import CatalogueAdminService

    rows = _admin_run(lambda s, actor: CatalogueAdminService(session=s).agencies_for(actor))
    for a in rows:
        state = "" if a.is_active else " (inactive)"
        click.echo(f"{a.slug}\t{a.sla_days} d\t{a.name_en}{state}\t" + ", ".join(s.slug for s in a.services))


@agency.command("add-service")
@click.argument("agency_slug")
@click.option("--slug", required=True)
@click.option("--name-ar", required=True)
@click.option("--name-en", required=True)
@click.option("--channel", default="web", show_default=True, type=click.Choice(["web", "mobile", "both", "counter"]))
@click.option("--sla-days", default=None, type=int)
def agency_add_service(agency_slug: str, slug: str, name_ar: str, name_en: str, channel: str,
                       sla_days: int | None) -> None:
    """Add an e-service to an agency."""
    from voice.administration.catalogue import CatalogueAdminService

    data: dict[str, Any] = {"slug": slug, "name_ar": name_ar, "name_en": name_en, "channel": channel}
    if sla_days is not None:
        data["sla_days"] = sla_days
    _admin_run(lambda s, actor: CatalogueAdminService(session=s).add_service(actor, agency_slug, data))
    click.echo(f"e-service {agency_slug}/{slug} added")


@main.command("worker")
@click.option("--concurrency", default=2, show_default=True)
@click.option("--nice", "niceness", default=0, show_default=True, help="Lower this process's CPU priority by N.")
@click.option("--parent", default=None, type=int, hidden=True, help="Stop when this process is gone (voice run).")
def worker(concurrency: int, niceness: int, parent: int | None) -> None:
    """Run a background job worker (e-mail, theme refresh). Run as many as needed, on any machine."""
    from voice.worker import worker_main

    worker_main(concurrency, niceness, parent)


@main.command("serve")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--workers", default=1, show_default=True, envvar="WEB_CONCURRENCY",
              help="Web processes sharing the socket (env WEB_CONCURRENCY).")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the web app (without migrating)."""
    import signal

    from voice.db import stop_embedded_postgres
    from voice.serving import serve as serve_web

    settings = get_settings()
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler the process
    # would die before the embedded PostgreSQL is released. Exiting normally runs the clean-up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve_web(settings, host, port, workers)
    finally:
        stop_embedded_postgres()


@main.command("run")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--workers", default=None, type=int, envvar="WEB_CONCURRENCY",
              help="Web processes sharing the socket (env WEB_CONCURRENCY). "
                   "Default: 1 on one core, else half the cores and at least 2.")
@click.option("--no-demo", is_flag=True, help="Do not load demo data into an empty database.")
def run(host: str | None, port: int | None, workers: int | None, no_demo: bool) -> None:
    """Migrate, load demo data into an empty database, and serve from one or more web processes, with a
    job worker in a child process.

    Ctrl-C or SIGTERM stops everything within seconds: the web processes, the worker (its running jobs go
    back to the queue) and the embedded PostgreSQL."""
    import os
    import signal

    from voice import serving
    from voice.db import stop_embedded_postgres
    from voice.demo.loader import load_demo
    from voice.jobs import WORKER_CONNECTIONS
    from voice.migrate import upgrade
    from voice.worker import WorkerProcess

    # Until the server runs (migrating, loading the demo), a signal ends the command through its clean-up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    try:
        url = _database_url()
        settings = get_settings()
        budget = _run(lambda: _with_session(serving.connection_budget))
        try:
            processes = serving.web_processes(workers, serving.cores(), budget,
                                              settings.db_pool_size + settings.db_max_overflow, WORKER_CONNECTIONS)
        except serving.TooManyWebProcesses as exc:
            raise click.ClickException(str(exc)) from exc
        upgrade(url)
        if not no_demo:
            click.echo(_run(lambda: _with_session(lambda s: load_demo(s, force=False))))
        # Jobs never run in a web process: the worker is a child process at a lower CPU priority. The web
        # processes are given the database's URL, so they use the embedded server this process started
        # (and stops) without attaching to it themselves.
        os.environ["VOICE_INPROCESS_WORKER"] = "off"
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        settings = get_settings()
        jobs = WorkerProcess(url)
        jobs.start()
        try:
            click.echo(f"Voice is serving on http://{host or settings.host}:{port or settings.port} "
                       f"({processes} web process{'es' if processes > 1 else ''} and a job worker)")
            serving.serve(settings, host, port, processes, on_stop=jobs.signal_stop,
                          stop_within=serving.WEB_STOP_WITHIN_SECONDS)
        finally:
            jobs.stop()
    finally:
        stop_embedded_postgres()


if __name__ == "__main__":
    sys.exit(main())
