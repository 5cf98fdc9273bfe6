"""Request hashes: what a request means, to tell a replay from a reused idempotency key."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def request_hash(payload: dict[str, Any]) -> str:
    """A digest of a request's meaning, to tell a replay from a reused idempotency key."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def posting_request_hash(pending_id: str, amount: int | None) -> str:
    """What identifies a request to post a pending entry."""
    return request_hash({"pending_id": pending_id, "amount": amount})


def reversal_request_hash(original_id: str, description: str | None) -> str:
    """What identifies a request to reverse an entry."""
    return request_hash({"reverses": original_id, "description": description})
