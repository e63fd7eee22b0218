"""Static files for phones on mobile data: every URL a page links carries its content's fingerprint
(``/static/css/app.css?v=…``), so the browser keeps the file for a year and never asks again; a new
build changes the fingerprint, hence the URL. A request without the current fingerprint (Swagger UI,
an old page in a cache) gets ``no-cache`` with an ETag, and a 304 with no body when it has not changed.
Stylesheets name their fonts through fingerprinted URLs too, so fonts are cached for good as well.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_304_NOT_MODIFIED

PREFIX = "/static/"
FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_CSS_URL = re.compile(r"""url\((["']?)/static/([^"')?#]+)\1\)""")


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    fingerprint: str
    stamp: tuple[int, int]  # (mtime_ns, size): a file edited under `make run` is read again


class Assets:
    """The files under one folder, read once, fingerprinted by content."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[str, Asset] = {}

    def _path(self, name: str) -> Path | None:
        path = (self.root / name.lstrip("/")).resolve()
        return path if path.is_relative_to(self.root) and path.is_file() else None

    def get(self, name: str) -> Asset | None:
        path = self._path(name)
        if path is None:
            return None
        info = path.stat()
        stamp = (info.st_mtime_ns, info.st_size)
        cached = self._cache.get(name)
        if cached is not None and cached.stamp == stamp:
            return cached
        body = path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".css":
            body = _CSS_URL.sub(lambda m: f'url("{self.url(m.group(2))}")', body.decode("utf-8")).encode("utf-8")
            media_type = "text/css; charset=utf-8"
        elif media_type.startswith("text/") or path.suffix in {".js", ".svg"}:
            media_type = media_type.split(";")[0] + "; charset=utf-8"
        asset = Asset(body, media_type, hashlib.sha256(body).hexdigest()[:16], stamp)
        self._cache[name] = asset
        return asset

    def url(self, name: str) -> str:
        """The fingerprinted URL of a static file (the plain one if the file does not exist)."""
        asset = self.get(name)
        return PREFIX + name.lstrip("/") + (f"?v={asset.fingerprint}" if asset else "")


def static_files(assets: Assets) -> HTTPRouteHandler:
    """The route that serves ``assets`` under /static/."""

    @get("/static/{name:path}", name="static", include_in_schema=False, sync_to_thread=False)
    def serve(request: Request, name: str) -> Response[bytes]:
        asset = assets.get(name)
        if asset is None:
            return Response(b"", status_code=404, media_type="text/plain")
        etag = f'"{asset.fingerprint}"'
        current = request.query_params.get("v") == asset.fingerprint
        headers = {"ETag": etag, "Cache-Control": FOREVER if current else REVALIDATE}
        if etag in {tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")}:
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    return serve
