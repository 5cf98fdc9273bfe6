"""`make bench-load`: HTTP load on a `ledger dev` of its own, on 127.0.0.1, bounded.

Two scenarios at each level of concurrency: `distinct`, every client transferring between a
pair of accounts of its own, and `hot`, every client paying into one shared account (a
revenue account with overdraft "allow", split into `--hot-shards` shards). Each level stops
at its request count or its time cap, whichever comes first.
Afterwards every account's posted balance must be exactly what was sent, and the ledger's
reconciliation and trial balance must be clean. Prints a table, writes
bench/load-results.json, and exits non-zero on any failed request or wrong balance.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load_driver import JsonConnection, LoadFailed, Pair, run_level
from bench.load_report import (
    ClientRun,
    LevelResult,
    Mismatch,
    assemble,
    expected_balances,
    summarize_level,
    table,
)
from bench.load_server import DevServer, DevServerFailed
from ledger.domain.money import builtin_currencies, format_amount
from ledger.local.dev import default_workers

requests_default = 200
requests_max = 10_000
time_cap_s_default = 30.0
time_cap_s_max = 300.0
clients_default = (1, 8, 32)
clients_max = 64
hot_shards_default = 8
hot_shards_max = 64
currency = builtin_currencies["USD"]
amount_minor = 100
results_path_default = Path(__file__).resolve().parent / "load-results.json"
scenarios = ("distinct", "hot")
exit_check_failed = 1
exit_run_failed = 2


class SetupFailed(LoadFailed):
    """A request that prepares the run (a ledger, an account, a deposit) was refused."""


@dataclass(frozen=True)
class Plan:
    """What a level sends: one pair per client, and the funding every source starts with."""

    pairs: list[Pair]
    funding_minor: int


class Books:
    """The setup and check calls, made with the admin key on one connection."""

    def __init__(self, connection: JsonConnection) -> None:
        self._connection = connection

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """A POST with an Idempotency-Key, as any creating POST should carry."""
        return self._connection.call("POST", path, body, idempotency_key=secrets.token_hex(16))

    def created(self, path: str, body: dict[str, Any]) -> str:
        """The id of what a POST created; anything but 201 fails the run."""
        status, answer = self.post(path, body)
        if status != 201:
            raise SetupFailed(f"POST {path} answered {status}: {answer}")
        return str(answer["id"])

    def read(self, method: str, path: str) -> Any:
        """The body of a read (or a POST that only reads); anything but 200 fails the run."""
        status, answer = self._connection.call(method, path)
        if status != 200:
            raise SetupFailed(f"{method} {path} answered {status}: {answer}")
        return answer

    def account(self, ledger_id: str, name: str, kind: str) -> str:
        """A plain account of the run's currency."""
        body = {"ledger_id": ledger_id, "name": name, "type": kind, "currency": currency.code}
        return self.created("/v1/accounts", body)

    def hot_account(self, ledger_id: str, name: str, shards: int) -> str:
        """A revenue account without a floor, of `shards` shards."""
        body: dict[str, Any] = {
            "ledger_id": ledger_id,
            "name": name,
            "type": "revenue",
            "currency": currency.code,
            "overdraft": {"mode": "allow"},
            "shards": shards,
        }
        return self.created("/v1/accounts", body)

    def funded(self, ledger_id: str, name: str, funding_minor: int) -> str:
        """A customer wallet holding `funding_minor`."""
        account_id = self.account(ledger_id, name, "liability")
        amount = format_amount(funding_minor, currency)
        self.created("/v1/deposits", {"account_id": account_id, "amount": amount})
        return account_id

    def posted(self, account_id: str) -> str:
        """The account's posted balance, read strongly consistent."""
        return str(self.read("GET", f"/v1/accounts/{account_id}/balance")["posted"])


def plan_level(
    books: Books, ledger_id: str, scenario: str, clients: int, *, requests: int, hot_shards: int
) -> Plan:
    """Accounts for one level, sources funded for every request the level may send."""
    funding_minor = requests * amount_minor
    prefix = f"{scenario}-{clients}"
    sources = [
        books.funded(ledger_id, f"{prefix}-source-{i}", funding_minor) for i in range(clients)
    ]
    if scenario == "distinct":
        targets = [
            books.account(ledger_id, f"{prefix}-target-{i}", "liability") for i in range(clients)
        ]
        return Plan([Pair(s, t) for s, t in zip(sources, targets, strict=True)], funding_minor)
    hot_id = books.hot_account(ledger_id, f"{prefix}-revenue", hot_shards)
    return Plan([Pair(source, hot_id) for source in sources], funding_minor)


def check_balances(
    books: Books, runs: Sequence[ClientRun], funding_minor: int
) -> tuple[int, list[Mismatch]]:
    """How many accounts of a level were read, and each whose posted balance is not what its
    clients sent."""
    expected = expected_balances(runs, funding_minor, amount_minor)
    mismatches = []
    for account_id, minor in expected.items():
        wanted, actual = format_amount(minor, currency), books.posted(account_id)
        if actual != wanted:
            mismatches.append(Mismatch(account_id, wanted, actual))
    return len(expected), mismatches


def reconciliation(books: Books, ledger_id: str) -> dict[str, Any]:
    """The ledger's reconciliation and its trial balance; `ok` only when both are clean."""
    report = books.read("POST", f"/v1/ledgers/{ledger_id}/reconciliations")
    trial = books.read("GET", f"/v1/ledgers/{ledger_id}/trial-balance?currency={currency.code}")
    return {
        "ok": report["ok"] is True and not report["mismatches"] and trial["balanced"] is True,
        "reconciliation_ok": report["ok"],
        "accounts_checked": report["accounts_checked"],
        "entries_checked": report["entries_checked"],
        "mismatches": report["mismatches"],
        "trial_balance_balanced": trial["balanced"],
        "trial_balance_total_debits": trial["total_debits"],
    }


def run(arguments: argparse.Namespace) -> tuple[dict[str, Any], list[LevelResult]]:
    """Start `ledger dev`, load it level by level, check it; the report and its levels."""
    levels: list[LevelResult] = []
    mismatches: list[Mismatch] = []
    balances_checked = 0
    with DevServer(arguments.workers) as server:
        connection = JsonConnection(server.host, server.port, server.admin_key)
        books = Books(connection)
        ledger_id = books.created("/v1/ledgers", {"name": f"load-{secrets.token_hex(4)}"})
        for scenario in scenarios:
            for clients in arguments.clients:
                plan = plan_level(
                    books,
                    ledger_id,
                    scenario,
                    clients,
                    requests=arguments.requests,
                    hot_shards=arguments.hot_shards,
                )
                runs, duration_s = run_level(
                    server.host,
                    server.port,
                    server.admin_key,
                    plan.pairs,
                    format_amount(amount_minor, currency),
                    requests_max=arguments.requests,
                    time_cap_s=arguments.time_cap,
                )
                level = summarize_level(scenario, runs, duration_s, requests_max=arguments.requests)
                levels.append(level)
                print(
                    f"{scenario:>8} x{clients:<3} {level.requests} requests, "
                    f"{level.errors} errors, {level.throughput_rps:.1f}/s",
                    flush=True,
                )
                read, wrong = check_balances(books, runs, plan.funding_minor)
                balances_checked += read
                mismatches.extend(wrong)
        checked = reconciliation(books, ledger_id)
        connection.close()
    settings = {
        "requests_per_level": arguments.requests,
        "time_cap_s": arguments.time_cap,
        "clients": list(arguments.clients),
        "hot_shards_requested": arguments.hot_shards,
        "ledger_dev_workers": arguments.workers,
        "transfer_amount": format_amount(amount_minor, currency),
        "currency": currency.code,
    }
    report = assemble(
        settings=settings,
        hot_shards=arguments.hot_shards,
        levels=levels,
        balances_checked=balances_checked,
        mismatches=mismatches,
        reconciliation=checked,
    )
    return report, levels


def summary(report: dict[str, Any]) -> str:
    """PASS/FAIL lines for the checks the exit code depends on."""
    balances = report["balances"]
    checked = report["reconciliation"]
    lines = [
        (report["errors"] == 0, f"failed requests: {report['errors']}"),
        (
            not balances["mismatches"],
            f"balances exact: {balances['checked'] - len(balances['mismatches'])}"
            f" of {balances['checked']} accounts",
        ),
        (
            checked["ok"],
            f"reconciliation: {checked['accounts_checked']} accounts, "
            f"{checked['entries_checked']} entries, {len(checked['mismatches'])} mismatches; "
            f"trial balance balanced: {checked['trial_balance_balanced']}",
        ),
    ]
    return "\n".join(f"{'PASS' if passed else 'FAIL'} {text}" for passed, text in lines)


def _bounded(minimum: float, maximum: float, kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be from {minimum} to {maximum}, not {value}")
        return value

    return parse


def _clients(text: str) -> tuple[int, ...]:
    levels = tuple(_bounded(1, clients_max, int)(part) for part in text.split(","))
    return tuple(sorted(set(levels)))


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument(
        "--requests",
        type=_bounded(1, requests_max, int),
        default=requests_default,
        help=f"requests per scenario and level, at most (default {requests_default})",
    )
    parser.add_argument(
        "--time-cap",
        type=_bounded(1, time_cap_s_max, float),
        default=time_cap_s_default,
        help=f"seconds per scenario and level, at most (default {time_cap_s_default:g})",
    )
    parser.add_argument(
        "--clients",
        type=_clients,
        default=clients_default,
        help="levels of concurrency, comma-separated (default 1,8,32)",
    )
    parser.add_argument(
        "--hot-shards",
        type=_bounded(1, hot_shards_max, int),
        default=hot_shards_default,
        help=f"shards of the hot account (default {hot_shards_default})",
    )
    parser.add_argument(
        "--workers",
        type=_bounded(1, clients_max, int),
        default=default_workers,
        help=f"worker processes of `ledger dev` (default {default_workers}, as `ledger dev`)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=results_path_default,
        help="where to write the JSON results (default bench/load-results.json)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print, write results; 0 only with no failed request and every balance exact."""
    arguments = parse_arguments(argv)
    try:
        report, levels = run(arguments)
    except (LoadFailed, DevServerFailed, OSError, http.client.HTTPException) as error:
        print(f"bench-load: run failed: {error}", file=sys.stderr)
        return exit_run_failed
    print()
    print(
        f"ledger dev with {arguments.workers} workers; hot account shards: {report['hot_shards']}"
    )
    print(table(levels))
    print()
    print(summary(report))
    arguments.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {arguments.output}")
    return 0 if report["ok"] else exit_check_failed


if __name__ == "__main__":
    sys.exit(main())
