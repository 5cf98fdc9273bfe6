"""What the API and the authorizer do around a Lambda SnapStart snapshot.

Lambda snapshots a function once it has initialized and restores that snapshot in every
new container, so whatever init made is the same in all of them. The `random` module's
state is: every container would draw the same retry jitter, and containers that meet the
same contention would retry in step. After each restore the state is drawn afresh from the
operating system. Ids, secrets and cursor nonces need nothing: `uuid4` and `secrets` read
the operating system's generator on every call, which Lambda makes unique after a restore.

`snapshot_restore_py` is the Lambda runtime's own module (the venv installs it for tests);
outside Lambda its hooks are never called.
"""

from __future__ import annotations

import random

from snapshot_restore_py import (
    get_after_restore,
    register_after_restore,
)


def reseed() -> None:
    """Draw the `random` module's state afresh from the operating system."""
    random.seed()


def install() -> None:
    """Register the restore hook, once in a process however many handlers ask for it."""
    if not any(hook is reseed for hook, _, _ in get_after_restore()):
        register_after_restore(reseed)
