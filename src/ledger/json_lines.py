"""Files of one JSON object per line, appended to by several processes at once."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


def append_lines(path: Path, values: Iterable[Any]) -> None:
    """Append each value as one line of compact JSON, all in one write to a file opened
    with O_APPEND: lines written by other processes at the same time never interleave
    with these, and a reader sees whole lines or none of them."""
    text = "".join(json.dumps(value, separators=(",", ":")) + "\n" for value in values)
    if not text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(descriptor, text.encode())
    finally:
        os.close(descriptor)
