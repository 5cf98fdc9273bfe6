from .harness import Api, Keys
def test_x(api: Api, keys: Keys) -> None:
    k = keys.of("reader", owner_id="o1")
    acc = "acc_aaaaaaaaaaaaaaaa_USD-2-c_bbbbbbbbbbbbbbbb"
    print(api.call("GET", f"/v1/accounts/{acc}", key=k).json)
    print(api.call("GET", f"/v1/accounts/{acc}").json)
    ko = keys.of("operator", owner_id="o1")
    print(api.call("POST", "/v1/deposits", {"account_id": acc, "amount": "1"}, key=ko).json)
    print(api.call("GET", "/v1/ledgers", query={"owner_id": "o1", "cursor": "garbage"}, key=k).json)
    print(api.call("GET", "/v1/ledgers", query={"owner_id": ""}, key=k).json)
