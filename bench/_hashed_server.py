"""`voice serve` with the benchmark's hashed encoder installed (bench/_hashed_encoder.py).

uvicorn starts its workers with multiprocessing's spawn, which imports this file again in each worker
as ``__mp_main__``: the module-level ``install()`` therefore runs in every process that answers.
Usage: python bench/_hashed_server.py serve --port N --workers 2
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

from _hashed_encoder import install  # noqa: E402

install()

if __name__ == "__main__":
    from voice.cli import main

    main()
