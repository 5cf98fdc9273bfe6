"""RFC 6901 JSON pointers: "/accounts/0/balance", with "~1" for "/" and "~0" for "~"."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

pointer_length_max = 1024
# An array index is "0" or digits without a leading zero; "-" (past the end) names nothing.
_array_index = re.compile(r"^(?:0|[1-9][0-9]*)$")
_escape = re.compile(r"~(?![01])")


class PointerMissing(LookupError):
    """The document holds nothing where the pointer points; `pointer` is the whole pointer."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"nothing at {pointer!r}: {reason}")
        self.pointer = pointer


def pointer_tokens(pointer: str) -> tuple[str, ...]:
    """The unescaped reference tokens of `pointer`; ValueError when it is no pointer."""
    if len(pointer) > pointer_length_max:
        raise ValueError(f"a JSON pointer is at most {pointer_length_max} characters")
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ValueError(f'JSON pointer {pointer!r} must be empty or start with "/"')
    if _escape.search(pointer):
        raise ValueError(f'JSON pointer {pointer!r} has a "~" not followed by 0 or 1')
    # "~1" first, then "~0": "~01" stands for "~1", never for "/".
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/"))


def resolve_pointer(document: object, pointer: str) -> object:
    """The value `pointer` names in `document`; PointerMissing when there is none."""
    value = document
    for token in pointer_tokens(pointer):
        if isinstance(value, Mapping):
            if token not in value:
                raise PointerMissing(pointer, f"no member {token!r}")
            value = value[token]
        elif isinstance(value, Sequence) and not isinstance(value, str):
            if not _array_index.fullmatch(token):
                raise PointerMissing(pointer, f"{token!r} is no array index")
            index = int(token)
            if index >= len(value):
                raise PointerMissing(pointer, f"index {index} is past the array's end")
            value = value[index]
        else:
            raise PointerMissing(pointer, f"{token!r} goes into a {type(value).__name__}")
    return value
