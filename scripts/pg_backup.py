"""Dump a Voice database to a file, or restore such a file into a database.

    python scripts/pg_backup.py dump URL FILE
    python scripts/pg_backup.py restore URL FILE [--clean]

URL is any spelling Voice accepts for DATABASE_URL (``postgresql://``, ``postgres://`` or
``postgresql+asyncpg://``), including the embedded server's Unix-socket form
``postgresql://postgres:@/postgres?host=/path/to/.data/pg``. The dump is ``pg_dump -Fc --no-owner``:
one file that holds the data, the schema, the sessions and the job queue.

``restore`` loads the file into the database named in URL, which should be new and empty (create
it first: ``createdb`` or ``CREATE DATABASE``). With ``--clean`` it drops and recreates every
object first, for restoring over an existing Voice database: stop the web processes and workers
before doing that. Afterwards run ``voice db upgrade`` (a no-op when the dump comes from the same
release).

The tools used are, in order: ``--bin-dir``, then ``$PG_BIN_DIR``, then the ``pg_dump`` and
``pg_restore`` shipped in the pgserver wheel (PostgreSQL 16), then those on PATH. pg_dump must be
at least the server's major version. Exit status is the tool's; its errors go to stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path


def libpq_url(url: str) -> str:
    """The plain ``postgresql://`` form that libpq tools accept."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg",
                                 "postgresql+psycopg2"}:
        msg = f"not a PostgreSQL URL: scheme {scheme!r}"
        raise ValueError(msg)
    return "postgresql://" + rest


def tool(name: str, bin_dir: str | Path | None = None) -> str:
    """The path of a PostgreSQL client program (see the module's docstring for the search order)."""
    candidates: list[Path] = []
    for given in (bin_dir, os.environ.get("PG_BIN_DIR")):
        if given:
            candidates.append(Path(given) / name)
    try:
        with warnings.catch_warnings():  # pgserver warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            import pgserver

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin" / name)
    except ImportError:
        pass
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found is None:
        msg = f"{name} not found (tried {', '.join(map(str, candidates)) or 'no bin dir'} and PATH)"
        raise FileNotFoundError(msg)
    return found


def dump(url: str, file: str | Path, bin_dir: str | Path | None = None) -> None:
    """Write a custom-format dump of the database at ``url`` to ``file``."""
    # No shell: the URL and file are single argv entries of a known program.
    subprocess.run([tool("pg_dump", bin_dir), "--format=custom", "--no-owner", "--file", str(file),  # noqa: S603
                    "--dbname", libpq_url(url)], check=True)


def restore(url: str, file: str | Path, *, clean: bool = False, bin_dir: str | Path | None = None) -> None:
    """Load ``file`` into the database at ``url``; stop at the first error (one transaction)."""
    args = [tool("pg_restore", bin_dir), "--no-owner", "--exit-on-error", "--single-transaction"]
    if clean:
        args += ["--clean", "--if-exists"]
    subprocess.run([*args, "--dbname", libpq_url(url), str(file)], check=True)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", help="folder holding pg_dump and pg_restore")
    commands = parser.add_subparsers(dest="command", required=True)
    d = commands.add_parser("dump", help="dump the database at URL to FILE")
    d.add_argument("url")
    d.add_argument("file")
    r = commands.add_parser("restore", help="restore FILE into the database at URL")
    r.add_argument("url")
    r.add_argument("file")
    r.add_argument("--clean", action="store_true", help="drop existing objects first")
    args = parser.parse_args(argv)
    try:
        if args.command == "dump":
            dump(args.url, args.file, args.bin_dir)
        else:
            restore(args.url, args.file, clean=args.clean, bin_dir=args.bin_dir)
    except subprocess.CalledProcessError as exc:
        print(f"{Path(exc.cmd[0]).name} failed with exit status {exc.returncode}", file=sys.stderr)
        return exc.returncode or 1
    except (ValueError, FileNotFoundError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
