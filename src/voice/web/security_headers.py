"""Security headers on every response: a strict Content-Security-Policy (no inline script) and friends."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
# Swagger UI boots from an inline script; only the API documentation page is allowed one.
CSP_DOCS = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
# Uploaded files are served by the app (voice.attachments): nothing in them may run or load anything.
CSP_FILES = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def security_headers(path: str, https: bool) -> dict[str, str]:
    headers = {**COMMON, "Content-Security-Policy": CSP_DOCS if path.rstrip("/") == "/schema" else CSP}
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = security_headers(scope["path"], scope.get("scheme") == "https")
        files = scope["path"].startswith("/attachments/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in wanted.items():
                    headers[name] = value
                # An uploaded file itself (not the error page of its address) runs and loads nothing.
                if files and not (headers.get("content-type") or "").startswith("text/html"):
                    headers["Content-Security-Policy"] = CSP_FILES
            await send(message)

        await self.app(scope, receive, send_with_headers)
