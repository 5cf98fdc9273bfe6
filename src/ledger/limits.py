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

name_length_max = 200
description_length_max = 1000
reference_length_max = 200
code_length_max = 100
owner_id_length_max = 200
idempotency_key_length_max = 255
metadata_keys_max = 50
metadata_key_length_max = 100
metadata_value_length_max = 1000

page_size_default = 50
page_size_max = 100
# A listing that filters the items it reads (entries by account) examines at most this
# many index items per page, so a sparse match costs bounded reads and returns a cursor.
index_items_examined_per_page_max = 200
# DynamoDB's BatchGetItem takes at most 100 keys per call.
batch_get_keys_max = 100

transaction_attempts_max = 8
retry_delay_ms_base = 10
retry_delay_ms_max = 400

# Pending entries with an expiry are spread over this many index partitions, so that
# creating them never concentrates writes on one index partition.
expiry_shards = 8
expiry_sweep_page_size = 25
expiry_sweep_pages_max = 40
expires_in_s_max = 366 * 24 * 3600

# API keys and the HTTP API
api_key_ledger_ids_max = 100
request_body_bytes_max = 64 * 1024

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
ledger_owner_cache_max = 10_000
