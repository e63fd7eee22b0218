"""The attachments component's settings section: where files are kept, how large each kind may be, and
the optional ClamAV daemon. Read once at start-up (documented in the README's configuration table)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from voice.settings import PROJECT_ROOT

MB = 1024 * 1024


def _mb(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(float(raw) * MB) if raw else default * MB


@dataclass(frozen=True)
class AttachmentsSettings:
    # Local backend: a folder (the default, under the data folder).
    local_dir: Path = PROJECT_ROOT / ".data" / "attachments"
    # S3-compatible backend, used when a bucket is named. Credentials come from the standard
    # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables, read by obstore itself (never by Voice).
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint: str | None = None  # MinIO, Ceph, a sovereign cloud's object store…; unset: AWS
    s3_region: str | None = None
    # The largest file accepted, per kind, in bytes.
    max_image: int = 8 * MB
    max_pdf: int = 20 * MB
    # ClamAV daemon: "host:port" or a Unix socket path; None: no scan.
    clamd: str | None = None
    clamd_timeout: float = 30.0

    @property
    def max_upload(self) -> int:
        """The largest request body an upload route accepts: the largest file plus the form around it."""
        return max(self.max_image, self.max_pdf) + MB

    @classmethod
    def from_env(cls) -> AttachmentsSettings:
        data_dir = Path(os.environ.get("VOICE_DATA_DIR", PROJECT_ROOT / ".data"))
        return cls(
            local_dir=Path(os.environ.get("VOICE_ATTACHMENTS_DIR") or data_dir / "attachments"),
            s3_bucket=os.environ.get("VOICE_ATTACHMENTS_S3_BUCKET") or None,
            s3_prefix=os.environ.get("VOICE_ATTACHMENTS_S3_PREFIX", "").strip("/"),
            s3_endpoint=os.environ.get("VOICE_ATTACHMENTS_S3_ENDPOINT") or None,
            s3_region=os.environ.get("VOICE_ATTACHMENTS_S3_REGION") or None,
            max_image=_mb("VOICE_ATTACHMENTS_MAX_IMAGE_MB", 8),
            max_pdf=_mb("VOICE_ATTACHMENTS_MAX_PDF_MB", 20),
            clamd=os.environ.get("VOICE_CLAMD", "").strip() or None,
            clamd_timeout=float(os.environ.get("VOICE_CLAMD_TIMEOUT") or 30),
        )
