"""The README's quickstart, run as written with bash and curl against `ledger dev`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import DevServer

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")

readme = Path(__file__).parents[2] / "README.md"
marker = "<!-- quickstart -->"
run_timeout_s = 120
# The placeholders the reader replaces by hand, on the block's `export` line.
url_placeholder = re.compile(r"LEDGER_URL=\S+")
key_placeholder = re.compile(r"LEDGER_API_KEY=<[^>\n]+>")


def quickstart() -> str:
    """The sh block that follows the quickstart marker in README.md."""
    text = readme.read_text()
    assert marker in text, "README.md lost its quickstart marker"
    after = text.split(marker, 1)[1]
    found = re.match(r"\s*```sh\n(.*?)\n```", after, re.DOTALL)
    assert found, "no ```sh block right after the quickstart marker"
    return found.group(1)


def json_values(output: str) -> list[Any]:
    """Every JSON value printed, in order; curl prints bodies back to back."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    while True:
        while position < len(output) and output[position].isspace():
            position += 1
        if position == len(output):
            return values
        value, position = decoder.raw_decode(output, position)
        values.append(value)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the quickstart uses curl")
def test_the_readme_quickstart_ends_with_the_balances_it_promises(dev_server: DevServer) -> None:
    # GIVEN the README's block with the dev server's URL and admin key in place of its own
    script = quickstart()
    assert url_placeholder.search(script)
    assert key_placeholder.search(script)
    script = url_placeholder.sub(f"LEDGER_URL={dev_server.url}", script, count=1)
    script = key_placeholder.sub(f"LEDGER_API_KEY={dev_server.admin_key}", script, count=1)

    # WHEN bash runs it, stopping at the first failing command
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=run_timeout_s,
        check=False,
    )

    # THEN it succeeded, every answer was a success, and the last two are the balances
    assert result.returncode == 0, result.stderr
    answers = json_values(result.stdout)
    assert not [answer for answer in answers if "error" in answer], answers
    alice, bob = answers[-2:]
    assert (alice["posted"], alice["available"]) == ("55.00", "55.00")
    assert bob["posted"] == "30.00"
    assert alice["account_id"] != bob["account_id"]
