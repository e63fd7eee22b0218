"""A small client for the ClamAV daemon's INSTREAM command (clamd(8)), used when VOICE_CLAMD is set.

The protocol: send ``zINSTREAM\\0``, then the file in chunks, each preceded by its length as a 4-byte
big-endian unsigned integer, then a zero-length chunk; clamd answers one NUL-terminated line:
``stream: OK``, ``stream: <signature> FOUND``, or ``… ERROR`` (for instance when the file is larger than
its StreamMaxLength). Written here (about forty lines) rather than depending on an unmaintained
package; it speaks TCP (``host:port``) or a Unix socket (a path).
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

CHUNK = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd could not be reached or answered something unexpected."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str | None = None


async def _connect(address: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if address.startswith("unix:"):
        address = address[5:]
    if address.startswith("/"):
        return await asyncio.open_unix_connection(address)
    host, _sep, port = address.rpartition(":")
    return await asyncio.open_connection(host.strip("[]") or "127.0.0.1", int(port))


async def scan(address: str, data: bytes, limit: float = 30.0) -> Verdict:
    """Ask clamd at ``address`` about ``data``; ScannerUnavailable when it cannot answer."""
    try:
        async with asyncio.timeout(limit):
            reader, writer = await _connect(address)
            try:
                writer.write(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK):
                    chunk = data[start:start + CHUNK]
                    writer.write(struct.pack(">I", len(chunk)) + chunk)
                    await writer.drain()
                writer.write(struct.pack(">I", 0))
                await writer.drain()
                reply = (await reader.readuntil(b"\0")).rstrip(b"\0").decode("utf-8", "replace").strip()
            finally:
                writer.close()
    except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise ScannerUnavailable(str(exc) or type(exc).__name__) from exc
    result = reply.partition(": ")[2] if ": " in reply else reply
    if result == "OK":
        return Verdict(clean=True)
    if result.endswith(" FOUND"):
        return Verdict(clean=False, signature=result.removesuffix(" FOUND"))
    raise ScannerUnavailable(reply)


async def ping(address: str, limit: float = 5.0) -> bool:
    """Whether a clamd answers PING at ``address``."""
    try:
        async with asyncio.timeout(limit):
            reader, writer = await _connect(address)
            try:
                writer.write(b"zPING\0")
                await writer.drain()
                return (await reader.readuntil(b"\0")).rstrip(b"\0") == b"PONG"
            finally:
                writer.close()
    except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return False
