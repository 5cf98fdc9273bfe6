"""Every bound the ledger enforces, in one place, units last."""

from __future__ import annotations

# DynamoDB Numbers hold 38 digits; 10^30 minor units leaves room for 10^8 such amounts.
amount_minor_max = 10**30
amount_text_length_max = 64
currency_scale_max = 18
currency_code_length_max = 12

# A transaction holds at most 100 items: the entry, one item per account, and one spare
# for the pending or reversed entry that posting, voiding and reversing also update.
lines_per_entry_min = 2
lines_per_entry_max = 98
transaction_items_max = 100
batch_operations_max = 50

# A hot account without a floor may split its balances over this many items (its shards),
# and a ledger's `world` accounts over the ledger's `world_shards`. Creating an account of
# 64 shards, with its checks and claims, stays well inside one transaction.
shards_max = 64
world_shards_default = 8

name_length_max = 200
description_length_max = 1000
reference_length_max = 200
code_length_max = 100
# The name of an outside source (a bank account, a chain wallet, a processor report).
source_name_length_max = 64
owner_id_length_max = 200
idempotency_key_length_max = 255
metadata_keys_max = 50
metadata_key_length_max = 100
metadata_value_length_max = 1000
# An entry's actor: ids and a role, an IPv6 address at most (45 characters), and a user
# agent, which the API cuts to this length rather than refuse a request over its header.
actor_id_length_max = 200
source_ip_length_max = 45
user_agent_length_max = 500
# An X-Ray trace header (Root, Parent, Sampled, Lineage) is well under this.
trace_header_length_max = 256

page_size_default = 50
page_size_max = 100
# A listing that filters the items it reads (one reference's entries by account) examines
# at most this many index items per page, so a sparse match costs bounded reads and
# returns a cursor.
index_items_examined_per_page_max = 200
# A page of one account's entries reads its history past records that list no entry
# (status changes, releases of pending entries), at most this many records per page.
history_records_examined_per_page_max = 1_000
# DynamoDB's BatchGetItem takes at most 100 keys per call.
batch_get_keys_max = 100

transaction_attempts_max = 8
# Reads (GetItem, Query, BatchGetItem) retried after throttling or a failed call.
read_attempts_max = 8
# The authorizer's key lookup has no retry loop of its own: botocore's bounded retries serve.
key_lookup_attempts_max = 3
retry_delay_ms_base = 10
retry_delay_ms_max = 400

# Deadlines. API Gateway cuts a request off after 29 s, so an answer must leave before:
# every store call (write, read, listing) shares one deadline per request.
api_gateway_timeout_ms = 29_000
# Kept back from the Lambda's remaining time, to shape the answer and send it.
deadline_margin_ms = 500
# The deadline of a store call when nobody set one (the library, local tools, consumers).
store_deadline_ms_local = 10_000
# One DynamoDB call without botocore's own retries lasts at most its connect and read
# timeouts: the store starts a call only if that much time is left.
dynamodb_connect_timeout_ms = 1_000
dynamodb_read_timeout_ms = 4_000
dynamodb_call_ms_max = dynamodb_connect_timeout_ms + dynamodb_read_timeout_ms

# Pending entries with an expiry are spread over this many index partitions, so that
# creating them never concentrates writes on one index partition.
expiry_shards = 8
expiry_sweep_page_size = 25
expiry_sweep_pages_max = 40
expires_in_s_max = 366 * 24 * 3600

# API keys and the HTTP API
api_key_ledger_ids_max = 100
request_body_bytes_max = 64 * 1024
# The deepest body the API takes is 5 levels (a batch's operations' lines); metadata is a
# flat map. 16 leaves room for an unknown nested field to be refused by its name, and stays
# far below Python's recursion limit (1000), which JSON parsing and validation would hit.
json_depth_max = 16
# The longest number a body carries is a few digits (`expires_in`, `scale`); amounts are
# strings. Python refuses to read integers past 4300 digits, and the work grows with length.
json_number_length_max = 32

# `ledger dev`'s HTTP front. API Gateway's HTTP API takes at most 10,240 bytes of request
# line and headers; the local front refuses more with 431, as a deployment would refuse it.
dev_header_bytes_max = 10 * 1024
# From a request's first byte, its line, headers and body must all arrive within this
# long; a client trickling bytes is cut off instead of holding a connection thread.
dev_request_stall_s = 10

# Reports walk a whole ledger through its listings, in the largest pages a listing gives;
# past these counts they refuse instead of running unbounded (DESIGN §12: full-ledger
# work at scale belongs to a table export).
report_page_size = page_size_max
report_accounts_max = 10_000
reconcile_entries_max = 100_000
# History records of one balance item a reconciliation reads to check that its versions
# are contiguous; an item with more is refused (report_too_large).
reconcile_history_versions_max = 10_000

# The scheduled reconciliation walks every ledger within one Lambda invocation (at most
# Lambda's 15 minutes) and goes on where it stopped in the next. It starts another ledger
# only while more than the margin remains, time for that ledger and the checkpoint; and
# it reconciles at most so many ledgers in one run.
reconciliation_run_timeout_ms = 900_000
reconciliation_run_margin_ms = 60_000
reconciliation_run_ledgers_max = 10_000
ledger_owner_cache_max = 10_000

# The history consumer: the time its entry reads of one batch may take, and how many keys
# one BatchGetItem takes.
history_read_ms_max = 10_000
# The audit reads whole chains: one chain of more records, or a ledger of more balance
# items, is refused rather than read unboundedly.
audit_chain_records_max = 10_000
audit_items_max = 10_000
batch_get_keys_max = 100

# Balances of the past and statements read history records one by one only where no
# aggregate answers: past this many records a balance is refused (`report_too_large`).
history_records_per_read_max = 10_000

# Posting rules and inbound events: an event type such as `investment.transaction.created`,
# an event id (the inbound idempotency key), and each template string of a rule.
event_type_length_max = 100
event_id_length_max = 255
template_length_max = 1000
# A rule's versions are numbered from 1; the table's sort keys give them ten digits.
rule_version_max = 10**10 - 1
# Balance monitors: an account holds at most this many, so the monitors consumer reads
# them in one Query per changed account, and a utilization threshold has at most this
# many decimals of a percent.
monitors_per_account_max = 20
utilization_decimals_max = 4
# Creating a monitor evaluates it at one version of the account; if the account moves
# before the monitor is written, it is read and evaluated again, this many times at most.
monitor_create_attempts_max = 5

# Statement matching: the rows of one request, the length of a row's id (it stands last in
# the key of its match record), and the entries of the account a run may consider (read
# from its effective-time history; a wider window is refused as report_too_large).
statement_rows_max = 10_000
statement_row_id_length_max = 200
statement_candidates_max = 20_000
# A match is one row item and one item per entry, all in one transaction: at most this
# many entries, so a match fits in `transaction_items_max`.
statement_match_entries_max = transaction_items_max - 1
# The body of a statement matching request: 10,000 rows of about 200 bytes each.
statement_match_body_bytes_max = 4 * 1024 * 1024

# An external balance check names at most this many accounts; one of a type counts every
# account of that type and currency, within `report_accounts_max`.
external_check_accounts_max = 100
