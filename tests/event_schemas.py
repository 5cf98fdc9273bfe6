"""The JSON Schemas of the published events (docs/events/), as validators."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

schemas_dir = Path(__file__).resolve().parent.parent / "docs" / "events"
definitions_file = "definitions.json"


@cache
def _registry() -> Registry[Any]:
    resources = []
    for path in schemas_dir.glob("*.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def schema_types() -> list[str]:
    """The detail types that have a schema."""
    return sorted(path.stem for path in schemas_dir.glob("ledger.*.json"))


def validate_event(event: dict[str, Any]) -> None:
    """Raise unless the event (as an EventBridge target receives it) fits its type's schema."""
    schema = json.loads((schemas_dir / f"{event['detail-type']}.json").read_text())
    validator = Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker())
    validator.validate(event)
