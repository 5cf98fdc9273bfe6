"""The stream's consumers that `ledger dev` runs: each a Lambda function's name and handler.

Every function here gets each batch of the table's stream, as an event source mapping
on the table's stream would give it in the stack.
"""

from __future__ import annotations

from ledger.local.container import Function

stream_consumers: tuple[Function, ...] = ()
