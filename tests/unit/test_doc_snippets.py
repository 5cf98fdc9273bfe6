"""README.md and docs/embedding.md run as written: every Python block, on the library.

A page's Python blocks run in order in one namespace of their own, so a block may use what
an earlier block of the same page made; each page starts afresh. A block that needs a
service the test does not start (a DynamoDB table, `ledger dev`) is marked on the line
right before its fence with `<!-- snippet: needs ... -->` and is compiled only, never
skipped. Each `print(...)` a block runs must carry a comment that begins with exactly what
it printed, then nothing or a space, colon or comma (`print(balance.available)  # 7000:
70.00 USD`), so the page cannot show a result the library does not give.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

root = Path(__file__).resolve().parents[2]
documents = ("README.md", "docs/embedding.md")

_fence = re.compile(r"^```python\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)
_marker = re.compile(r"^<!-- snippet: (?P<reason>\S[^>]*?) -->$")
# What may follow the printed text in its comment: nothing, or an explanation after it.
_ends = ("", " ", ":", ",")


@dataclass(frozen=True)
class Snippet:
    """One fenced Python block of a page."""

    path: Path
    line: int  # the block's first line of code, 1-based, in the page
    code: str
    needs: str | None  # the marker's reason: compiled only

    def compiled(self) -> types.CodeType:
        """The block compiled so that tracebacks name the page and its own line numbers."""
        return compile("\n" * (self.line - 1) + self.code, str(self.path), "exec")

    def prints(self) -> set[int]:
        """The page's lines on which the block calls `print`."""
        tree = ast.parse("\n" * (self.line - 1) + self.code)
        return {
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "print"
        }

    def comments(self) -> dict[int, str]:
        """Each line's trailing comment, by line number in the page."""
        source = io.StringIO("\n" * (self.line - 1) + self.code)
        return {
            token.start[0]: token.string.removeprefix("#").strip()
            for token in tokenize.generate_tokens(source.readline)
            if token.type == tokenize.COMMENT
        }


def snippets(document: str) -> list[Snippet]:
    """Every Python block of a page, in order, with its marker if it has one."""
    path = root / document
    text = path.read_text()
    found = []
    for match in _fence.finditer(text):
        preceding = text[: max(match.start() - 1, 0)].rsplit("\n", 1)[-1]
        marker = _marker.match(preceding)
        found.append(
            Snippet(
                path=path,
                line=text.count("\n", 0, match.start("code")) + 1,
                code=match.group("code"),
                needs=marker.group("reason") if marker else None,
            )
        )
    return found


class PrintChecker:
    """A `print` for the blocks: what it prints must open the comment of its line."""

    def __init__(self, path: Path, comments: dict[int, str]) -> None:
        self.path = str(path)
        self.comments = comments
        self.checked: set[int] = set()

    def __call__(self, *values: object, sep: str = " ", end: str = "\n") -> None:
        """Compare the printed text with the comment on the calling line of the page."""
        caller = sys._getframe(1)
        assert caller.f_code.co_filename == self.path, "print called from outside the page"
        line = caller.f_lineno
        printed = sep.join(str(value) for value in values)
        comment = self.comments.get(line)
        assert comment is not None, f"{self.path}:{line} prints {printed!r} but does not show it"
        shown = comment[: len(printed)] == printed and comment[len(printed) :][:1] in _ends
        assert shown, f"{self.path}:{line} prints {printed!r}, the page says {comment!r}"
        self.checked.add(line)


@pytest.mark.parametrize("document", documents)
def test_every_python_block_of_the_page_runs_as_written(document: str) -> None:
    # GIVEN the page's blocks that need nothing but the library
    runnable = [snippet for snippet in snippets(document) if snippet.needs is None]
    assert runnable, f"{document} has no block that runs"
    comments: dict[int, str] = {}
    prints: set[int] = set()
    for snippet in runnable:
        comments.update(snippet.comments())
        prints |= snippet.prints()
    checker = PrintChecker(root / document, comments)
    namespace: dict[str, Any] = {"__name__": "__doc_snippet__", "print": checker}

    # WHEN each runs in turn, in the page's one namespace
    for snippet in runnable:
        exec(snippet.compiled(), namespace)

    # THEN none raised, no assertion of the page failed, every print ran, and what each
    # printed is what the page shows beside it
    assert prints, f"{document} prints nothing to check"
    assert checker.checked == prints, f"{document}: prints that never ran, by line"


@pytest.mark.parametrize("document", documents)
def test_blocks_that_need_a_service_are_marked_and_compile(document: str) -> None:
    # GIVEN the page's blocks marked as needing a service the test does not start
    marked = [snippet for snippet in snippets(document) if snippet.needs is not None]

    # WHEN / THEN each names what it needs and is valid Python all the same
    for snippet in marked:
        assert str(snippet.needs).startswith("needs "), (snippet.path, snippet.line)
        assert snippet.compiled().co_filename == str(snippet.path)


def test_a_marker_applies_only_to_the_block_right_after_it(tmp_path: Path) -> None:
    # GIVEN a page with a marked block, a block after a blank line and an unmarked one
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- snippet: needs a table -->\n```python\nx = 1\n```\n\n"
        "<!-- snippet: needs a table -->\n\n```python\ny = 2\n```\n"
        "text\n```python\nz = 3\n```\n"
    )

    # WHEN its blocks are read
    found = snippets(str(page))

    # THEN only the block right after its marker is marked, and lines are the page's own
    assert [(snippet.line, snippet.needs) for snippet in found] == [
        (3, "needs a table"),
        (9, None),
        (13, None),
    ]


def test_a_print_the_page_misstates_fails(tmp_path: Path) -> None:
    # GIVEN a block whose print comment shows another value than it prints
    page = tmp_path / "page.md"
    page.write_text("```python\nprint(6 * 7)  # 41 is the answer\n```\n")
    (snippet,) = snippets(str(page))
    checker = PrintChecker(page, snippet.comments())

    # WHEN it runs / THEN the print refuses the page's claim
    with pytest.raises(AssertionError, match="prints '42', the page says '41 is the answer'"):
        exec(snippet.compiled(), {"print": checker})
