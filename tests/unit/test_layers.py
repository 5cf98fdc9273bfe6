"""The layers keep their words: above the store, no module names the table's indexes."""

from __future__ import annotations

import re
from pathlib import Path

import ledger

package_root = Path(ledger.__file__).resolve().parent
index_words = re.compile(r"\bgsi[1-4]\w*|\bIndexQuery\b")


def index_mentions(root: Path) -> list[str]:
    """Every line outside `ledger/store` that names an index or an index query."""
    store = root / "store"
    return [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        if store not in path.parents
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if index_words.search(line)
    ]


def test_no_module_above_the_store_names_an_index() -> None:
    # GIVEN every module of the package outside the store
    # WHEN looking for index names (gsi1..gsi4) and index queries
    # THEN there are none: the service asks the store for named listings
    assert index_mentions(package_root) == []


def test_an_index_name_outside_the_store_is_found(tmp_path: Path) -> None:
    # GIVEN a package whose service names an index, and whose store does too
    (tmp_path / "service").mkdir()
    (tmp_path / "store").mkdir()
    (tmp_path / "service" / "books.py").write_text('query = IndexQuery("gsi2", "p")\n')
    (tmp_path / "store" / "schema.py").write_text('indexes = ("gsi1", "gsi2")\n')
    # WHEN looking for index names / THEN only the service's line is reported
    assert index_mentions(tmp_path) == ['service/books.py:1: query = IndexQuery("gsi2", "p")']
