"""Benchmark of the upload checks (voice.attachments.checks.inspect) and of the storage's put/get: what one
upload costs the web process's CPU, per kind of file people send.

Not a test. Usage:  PYTHONPATH=src .venv/bin/python bench/attachments_bench.py [--repeat 5]

Files are made here: a phone photo (4032x3024 JPEG with EXIF and GPS, camera noise so that it compresses as
a real photo does), a phone screenshot (1080x2400 PNG: flat colours and text-like stripes), a 30-page PDF,
and the same photo's bytes stored and read back through the local backend. Best of --repeat runs, one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from PIL import Image, ImageDraw  # noqa: E402
from pypdf import PdfWriter  # noqa: E402

from voice.attachments.checks import Kind, Upload, inspect  # noqa: E402
from voice.attachments.settings import MB, AttachmentsSettings  # noqa: E402
from voice.attachments.storage import storage_for  # noqa: E402


def photo() -> bytes:
    base = Image.effect_noise((4032, 3024), 40).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (24.0, 42.0, 36.5), 3: "E", 4: (46.0, 43.0, 12.25)}
    out = io.BytesIO()
    base.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def screenshot() -> bytes:
    image = Image.new("RGB", (1080, 2400), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    for y in range(200, 2300, 60):
        draw.rectangle((60, y, 60 + (y * 7) % 900, y + 24), fill=(30, 30, 30))
    draw.rectangle((0, 0, 1080, 160), fill=(11, 110, 79))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pdf(pages: int = 30) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def best(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = AttachmentsSettings(max_image=20 * MB, max_pdf=20 * MB)
    both = (Kind.IMAGE, Kind.PDF)
    print(f"| file | bytes in | bytes stored | check (ms, best of {args.repeat}) |")
    print("|---|---:|---:|---:|")
    for name, data in (("photo 4032x3024 JPEG with GPS", photo()), ("screenshot 1080x2400 PNG", screenshot()),
                       ("PDF, 30 pages", pdf())):
        clean = inspect(Upload(data, "x"), both, settings, "file")
        seconds = best(args.repeat, lambda d=data: inspect(Upload(d, "x"), both, settings, "file"))
        print(f"| {name} | {len(data):,} | {len(clean.data):,} | {seconds * 1000:.0f} |")
    with tempfile.TemporaryDirectory() as folder:
        storage = storage_for(AttachmentsSettings(local_dir=Path(folder)))
        data = photo()

        async def round_trip() -> None:
            key = storage.new_key("bench")
            await storage.put(key, data)
            assert await storage.get(key) == data

        seconds = best(args.repeat, lambda: asyncio.run(round_trip()))
        print(f"| local storage put + get of the photo | {len(data):,} | {len(data):,} | {seconds * 1000:.0f} |")


if __name__ == "__main__":
    main()
