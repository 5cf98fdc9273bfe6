"""docs/money-movements.md runs as written: its code on the library, its tables as the result.

The page's Python blocks are executed in order, one fresh namespace per example (seeded by
the page's opening block). A table right after a block shows named accounts' balance objects
before and after that block; each cell is compared with `get_balance`, rendered with
`format_amount`. So neither the calls nor the numbers on the page can drift from the library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ledger.domain.model import Account, Balance
from ledger.domain.money import format_amount
from ledger.service import Ledger

doc_path = Path(__file__).resolve().parents[2] / "docs" / "money-movements.md"

# The balance object's amount fields, in the order every table lists them.
balance_fields = (
    "posted",
    "pending_in",
    "pending_out",
    "held",
    "escrowed",
    "available",
    "credit_limit",
    "credit_used",
    "spendable",
    "total_in",
    "total_out",
)
moments = ("before", "after")

# One example per way of moving money, in the page's order.
example_titles = (
    "Deposit",
    "Withdrawal",
    "Spend",
    "Refund",
    "Transfer",
    "Multi-line entry",
    "Hold, then confirm",
    "Confirming for less",
    "Hold, then release",
    "Escrow, then release",
    "Escrow, then refund",
    "Credit line",
    "Reversal",
    "Expiry",
)

_heading = re.compile(r"^#{2,3} (?P<title>.+)$")
_bold = re.compile(r"^\*\*(?P<value>.*)\*\*$")

Cells = dict[str, str]  # balance field -> amount as written, bold markers removed


@dataclass(frozen=True)
class Table:
    """Balances of some accounts before and after one block; `bold` marks what it changed."""

    line: int
    values: dict[tuple[str, str], Cells]  # (account variable, moment) -> cells
    bold: dict[tuple[str, str], frozenset[str]]  # (account variable, moment) -> fields

    @property
    def accounts(self) -> list[str]:
        """The account variables the table shows, in column order."""
        return list(dict.fromkeys(account for account, _ in self.values))


@dataclass
class Block:
    """A Python block of the page and the tables that follow it."""

    line: int
    code: str
    tables: list[Table] = field(default_factory=list)


@dataclass
class Example:
    """A section of the page: its title and its blocks."""

    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Page:
    """The opening block and the examples."""

    opening: list[Block]
    examples: dict[str, Example]


def read_page(path: Path = doc_path) -> Page:
    """Split the page into blocks and tables, grouped by its `##`/`###` sections."""
    lines = path.read_text().splitlines()
    page = Page(opening=[], examples={})
    blocks = page.opening
    index = 0
    while index < len(lines):
        line = lines[index]
        heading = _heading.match(line)
        if heading is not None:
            example = Example(heading["title"])
            page.examples[example.title] = example
            blocks = example.blocks
        elif line == "```python":
            end = lines.index("```", index + 1)
            blocks.append(Block(index + 2, "\n".join(lines[index + 1 : end])))
            index = end
        elif line.startswith("|"):
            end = index
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            assert blocks, f"line {index + 1}: a table with no block before it"
            blocks[-1].tables.append(parse_table(index + 1, lines[index:end]))
            index = end - 1
        index += 1
    return page


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def parse_table(line: int, rows: list[str]) -> Table:
    """A table whose columns are `<account> before`, `<account> after`, ... and whose rows
    are the balance fields."""
    header, _rule, *body = rows
    columns: list[tuple[str, str]] = []
    for title in _cells(header)[1:]:
        account, _, moment = title.partition(" ")
        columns.append((account, moment))
    values: dict[tuple[str, str], Cells] = {column: {} for column in columns}
    bold: dict[tuple[str, str], set[str]] = {column: set() for column in columns}
    names = []
    for row in body:
        name, *cells = _cells(row)
        names.append(name)
        assert len(cells) == len(columns), f"line {line}: row {name} has {len(cells)} cells"
        for column, cell in zip(columns, cells, strict=True):
            emphasized = _bold.match(cell)
            values[column][name] = cell if emphasized is None else emphasized["value"]
            if emphasized is not None:
                bold[column].add(name)
    assert tuple(names) == balance_fields, f"line {line}: rows are not the balance fields"
    accounts = list(dict.fromkeys(account for account, _ in columns))
    expected_columns = [(account, moment) for account in accounts for moment in moments]
    assert columns == expected_columns, f"line {line}: columns are not before/after pairs"
    return Table(line, values, {column: frozenset(marked) for column, marked in bold.items()})


def run_block(block: Block, namespace: dict[str, object]) -> None:
    """Execute a block of the page; a traceback points at the page's own line numbers."""
    source = "\n" * (block.line - 1) + block.code
    exec(compile(source, str(doc_path), "exec"), namespace)


def balance_cells(namespace: dict[str, object], account_name: str) -> Cells:
    """The named account's balance object now, rendered as the page writes amounts."""
    ledger, account = namespace["ledger"], namespace[account_name]
    assert isinstance(ledger, Ledger)
    assert isinstance(account, Account), f"{account_name} is not an account"
    balance: Balance = ledger.get_balance(account.id)
    return {
        name: format_amount(getattr(balance, name), balance.currency) for name in balance_fields
    }


def changed_fields(before: Cells, after: Cells) -> frozenset[str]:
    """The fields whose value differs."""
    return frozenset(name for name in balance_fields if before[name] != after[name])


@pytest.fixture(scope="module")
def page() -> Page:
    """The page, parsed once."""
    return read_page()


def test_the_page_has_one_example_per_movement_each_with_balances(page: Page) -> None:
    # GIVEN the page / WHEN its sections are listed
    titles = tuple(page.examples)

    # THEN they are the examples, in order, each with at least one table of balances
    assert titles == example_titles
    for example in page.examples.values():
        assert any(block.tables for block in example.blocks), example.title
    # AND one opening block sets up `ledger` and `book` for all of them
    assert len(page.opening) == 1


@pytest.mark.parametrize("title", example_titles)
def test_example_runs_and_its_tables_are_the_library_balances(page: Page, title: str) -> None:
    # GIVEN a fresh namespace where the page's opening block has run
    namespace: dict[str, object] = {}
    run_block(page.opening[0], namespace)
    checked = 0

    for block in page.examples[title].blocks:
        accounts = [account for table in block.tables for account in table.accounts]
        before = {account: balance_cells(namespace, account) for account in accounts}

        # WHEN each block of the example runs in turn
        run_block(block, namespace)

        # THEN each table after it shows those accounts' balances before and after it
        after = {account: balance_cells(namespace, account) for account in accounts}
        for table in block.tables:
            measured = {}
            for account in table.accounts:
                measured[(account, "before")] = before[account]
                measured[(account, "after")] = after[account]
            assert table.values == measured, f"table at line {table.line}"
            # AND exactly what the block changed is in bold, in the after column
            for account in table.accounts:
                changed = changed_fields(before[account], after[account])
                assert table.bold[(account, "after")] == changed, f"line {table.line}"
                assert table.bold[(account, "before")] == frozenset(), f"line {table.line}"
            checked += 1
    assert checked > 0


def test_credit_line_example_is_the_specified_one(page: Page) -> None:
    # GIVEN the credit line's steps as specified: limit 10.00 on 3.00 of own funds, then a
    # hold of 5.00, its release, a spend of 5.00 and a deposit of 4.00
    specified = [
        {"available": "3.00", "credit_limit": "10.00", "spendable": "13.00"},
        {"available": "0.00", "held": "5.00", "credit_used": "2.00", "spendable": "8.00"},
        {"available": "3.00", "held": "0.00", "credit_used": "0.00", "spendable": "13.00"},
        {"available": "0.00", "posted": "-2.00", "credit_used": "2.00"},
        {"available": "2.00", "credit_used": "0.00", "spendable": "12.00"},
    ]

    # WHEN the page's tables of that example are read
    tables = [table for block in page.examples["Credit line"].blocks for table in block.tables]

    # THEN each step's after column shows the specified numbers
    assert len(tables) == len(specified)
    for table, numbers in zip(tables, specified, strict=True):
        after = table.values[("alice", "after")]
        assert {name: after[name] for name in numbers} == numbers, f"line {table.line}"
