"""The public library facade: validate, plan, hand the plan to a store, settle replays."""

from ledger.domain.inputs import LineInput
from ledger.service.audit import Audit
from ledger.service.base import utc_now
from ledger.service.books import Books
from ledger.service.expiring import Expiring
from ledger.service.external import ExternalBalances
from ledger.service.matching import StatementMatches
from ledger.service.monitors import Monitors
from ledger.service.movements import Movements
from ledger.service.rebuild import Rebuilds
from ledger.service.rules import Rules
from ledger.service.statements import Statements
from ledger.service.two_phase import TwoPhase

__all__ = ["Ledger", "LineInput", "utc_now"]


class Ledger(
    Books,
    Movements,
    TwoPhase,
    Expiring,
    Audit,
    Statements,
    Rebuilds,
    Rules,
    Monitors,
    StatementMatches,
    ExternalBalances,
):
    """Double-entry bookkeeping over a store: every mutation is one atomic, guarded write."""
