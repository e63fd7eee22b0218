"""Versioned, pickle-free blobs: a JSON header plus named numpy arrays in one np.savez archive."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

__all__ = ["ModelFormatError", "pack", "unpack"]

_HEADER = "__header__"


class ModelFormatError(ValueError):
    """The bytes are not a model of the expected kind and version."""


def pack(kind: str, version: int, meta: dict, arrays: dict[str, np.ndarray]) -> bytes:
    header = json.dumps({"format": kind, "version": version, "meta": meta}, ensure_ascii=False)
    buf = io.BytesIO()
    payload = {_HEADER: np.frombuffer(header.encode("utf-8"), dtype=np.uint8), **arrays}
    np.savez(buf, allow_pickle=False, **payload)
    return buf.getvalue()


def unpack(blob: bytes, kind: str, version: int) -> tuple[dict, dict[str, np.ndarray]]:
    """Header metadata and arrays; raises ModelFormatError with a readable reason on anything else."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise ModelFormatError(f"expected bytes, got {type(blob).__name__}")
    try:
        with np.load(io.BytesIO(bytes(blob)), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(arrays.pop(_HEADER).tobytes().decode("utf-8"))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"not a serialized {kind}: {exc}") from None
    if header.get("format") != kind:
        raise ModelFormatError(f"expected a {kind}, got {header.get('format')!r}")
    if header.get("version") != version:
        raise ModelFormatError(
            f"{kind} format version {header.get('version')!r} is not supported (this library reads {version}); "
            "re-fit the model"
        )
    return header["meta"], arrays
