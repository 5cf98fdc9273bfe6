"""The service's errors come out of the client as the library's own exception classes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from client_stub import Reply, StubServer, an_id, entry_body, error_reply

from ledger.client import LedgerClient, decode
from ledger.domain.errors import (
    InsufficientFunds,
    InternalError,
    LedgerError,
    NotFound,
    Unauthorized,
    ValidationError,
    error_classes,
)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A scripted server for one test."""
    with StubServer() as server:
        yield server


@pytest.fixture
def client(stub: StubServer) -> LedgerClient:
    """A client of the stub that makes one attempt per call, so errors surface at once."""
    return LedgerClient(stub.url, "lk_test", attempts_max=1)


@pytest.mark.parametrize(("code", "error_class"), sorted(error_classes().items()))
def test_every_error_code_raises_its_class(
    stub: StubServer, client: LedgerClient, code: str, error_class: type[LedgerError]
) -> None:
    # GIVEN a service that answers with the error body of this code
    stub.script(error_reply(error_class.status, code, f"it failed: {code}", account_id="a-1"))
    # WHEN reading an account
    # THEN the library's class for the code is raised with the service's message,
    # details and request id
    with pytest.raises(error_class) as raised:
        client.get_account(an_id("acc"))
    assert type(raised.value) is error_class
    assert raised.value.code == code
    assert raised.value.message == f"it failed: {code}"
    assert str(raised.value) == f"it failed: {code}"
    assert raised.value.details == {"account_id": "a-1"}
    assert raised.value.request_id == f"req-{code}"


def test_a_validation_error_names_its_field(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that refuses an amount with too many decimals
    stub.script(error_reply(400, "validation_error", "too many decimals", field="amount"))
    # WHEN depositing it
    # THEN ValidationError names the field, as the library's own would
    with pytest.raises(ValidationError) as raised:
        client.deposit(an_id("acc"), "1.001")
    assert raised.value.field == "amount"
    assert raised.value.details == {"field": "amount"}
    assert raised.value.to_dict()["error"]["code"] == "validation_error"


def test_not_found_carries_resource_and_id(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that knows no such entry
    entry_id = an_id("ent")
    stub.script(
        error_reply(404, "not_found", f"entry {entry_id} not found", resource="entry", id=entry_id)
    )
    # WHEN reading it
    # THEN NotFound says which resource and id
    with pytest.raises(NotFound) as raised:
        client.get_entry(entry_id)
    assert raised.value.details == {"resource": "entry", "id": entry_id}
    assert raised.value.message == f"entry {entry_id} not found"


def test_insufficient_funds_keeps_its_details(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that refuses a spend for lack of funds
    account_id = an_id("acc")
    stub.script(
        error_reply(422, "insufficient_funds", "cannot cover 5.00 USD", account_id=account_id)
    )
    # WHEN spending
    # THEN InsufficientFunds is raised, a LedgerError the caller can catch broadly
    with pytest.raises(InsufficientFunds) as raised:
        client.spend(account_id, "5.00")
    assert isinstance(raised.value, LedgerError)
    assert raised.value.details["account_id"] == account_id


def test_an_unknown_code_becomes_an_internal_error(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that answers with a code this client does not know
    stub.script(error_reply(418, "teapot", "short and stout"))
    # WHEN checking health
    # THEN InternalError is raised with the service's message
    with pytest.raises(InternalError, match="short and stout"):
        client.health()


def test_a_gateway_body_is_mapped_by_status(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a gateway that answers 401 with its own body, not the contract's
    stub.script(Reply(401, {"message": "Unauthorized"}))
    # WHEN listing accounts
    # THEN Unauthorized is raised with the gateway's message
    with pytest.raises(Unauthorized, match="Unauthorized"):
        client.list_accounts(an_id("led"))


def test_a_body_that_is_not_json_becomes_an_internal_error(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN a proxy that answers 502 with an HTML page
    stub.script(Reply(502, raw=b"<html>Bad Gateway</html>"))
    # WHEN reading a ledger
    # THEN InternalError is raised, quoting the page and its status
    with pytest.raises(InternalError) as raised:
        client.get_ledger(an_id("led"))
    assert "Bad Gateway" in raised.value.message
    assert raised.value.details == {"status": 502}


def test_a_replay_is_visible_on_the_last_response(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that answers a deposit as a replay of an earlier one
    entry = entry_body(kind="deposit")
    headers = {"Idempotent-Replayed": "true", "X-Request-Id": "req-replay"}
    stub.script(Reply(201, entry, headers))
    # WHEN depositing with the earlier key
    result = client.deposit(an_id("acc"), "10.00", idempotency_key=an_id("key"))
    # THEN the result is the entry, marked replayed, and so is the last response
    assert result == decode.entry(entry, replayed=True)
    assert client.last_response is not None
    assert client.last_response.status == 201
    assert client.last_response.replayed is True
    assert client.last_response.request_id == "req-replay"


def test_a_first_write_is_not_a_replay(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that answers a deposit as a first write
    stub.script(Reply(201, entry_body()))
    # WHEN depositing
    client.deposit(an_id("acc"), "10.00")
    # THEN the last response says it was not replayed
    assert client.last_response is not None
    assert client.last_response.replayed is False
