"""Where attachment bytes live, behind one interface: obstore's local-filesystem store by default, or
any S3-compatible object store in production.

obstore (Rust's ``object_store`` crate, the one Apache Arrow and Delta Lake use) was chosen because one
API covers local disk and S3-compatible stores with native async calls, no boto3/aiobotocore stack and
no thread pool of our own; its stores are safe to share between tasks. Keys are random and carry no
name that a person chose.

No partial writes: a file is written before its row, and every file written in a database transaction
that does not commit is deleted when that transaction ends (``_forget_uncommitted``). A failed upload
therefore leaves neither a row nor a file.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import obstore
from obstore.store import LocalStore, S3Store
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from voice.attachments.settings import AttachmentsSettings

log = logging.getLogger(__name__)

_WRITTEN = "voice_attachments_written"
_DELETED = "voice_attachments_deleted"


class Storage:
    """Put, read and delete objects by key; the same calls whatever backend ``store`` is."""

    def __init__(self, store: Any, description: str) -> None:
        self.store = store
        self.description = description

    @staticmethod
    def new_key(prefix: str) -> str:
        """A key nobody can guess or choose: ``<prefix>/<yyyy>/<mm>/<random>``."""
        now = datetime.now(UTC)
        return f"{prefix}/{now:%Y}/{now:%m}/{secrets.token_urlsafe(24)}"

    async def put(self, key: str, data: bytes) -> None:
        await obstore.put_async(self.store, key, data)

    async def get(self, key: str) -> bytes:
        result = await obstore.get_async(self.store, key)
        return bytes(await result.bytes_async())

    async def exists(self, key: str) -> bool:
        try:
            await obstore.head_async(self.store, key)
        except FileNotFoundError:
            return False
        return True

    async def delete(self, key: str) -> None:
        try:
            await obstore.delete_async(self.store, key)
        except FileNotFoundError:
            pass

    def delete_now(self, key: str) -> None:
        """Synchronous delete, for the session event that runs outside the event loop's await."""
        try:
            obstore.delete(self.store, key)
        except FileNotFoundError:
            pass

    async def keys(self, prefix: str | None = None) -> list[str]:
        found: list[str] = []
        async for batch in obstore.list(self.store, prefix=prefix):
            found.extend(meta["path"] for meta in batch)
        return found


@lru_cache(maxsize=8)
def storage_for(settings: AttachmentsSettings) -> Storage:
    """The storage a settings section names (one per process and configuration)."""
    if settings.s3_bucket:
        options: dict[str, Any] = {}
        if settings.s3_endpoint:
            options["endpoint"] = settings.s3_endpoint
        if settings.s3_region:
            options["region"] = settings.s3_region
        client = {"allow_http": True} if (settings.s3_endpoint or "").startswith("http://") else None
        store = S3Store(settings.s3_bucket, prefix=settings.s3_prefix or None, client_options=client, **options)
        return Storage(store, f"s3://{settings.s3_bucket}/{settings.s3_prefix}")
    settings.local_dir.mkdir(parents=True, exist_ok=True)
    return Storage(LocalStore(settings.local_dir, mkdir=True), str(settings.local_dir))


def written_in_transaction(session: Session, storage: Storage, key: str) -> None:
    """Remember a file written in ``session``'s current transaction: deleted unless that transaction commits."""
    session.info.setdefault(_WRITTEN, []).append((storage, key))


def deleted_in_transaction(session: Session, storage: Storage, key: str) -> None:
    """Delete a file once ``session``'s current transaction commits (its row's deletion is then final)."""
    session.info.setdefault(_DELETED, []).append((storage, key))


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for storage, key in session.info.pop(_DELETED, ()):
        try:
            storage.delete_now(key)
        except Exception:
            log.warning("could not delete the removed attachment %s", key, exc_info=True)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    session.info.pop(_DELETED, None)  # not committed: the rows stay, so do their files
    for storage, key in session.info.pop(_WRITTEN, ()):
        try:
            storage.delete_now(key)
        except Exception:
            log.warning("could not delete the uncommitted attachment %s", key, exc_info=True)
