"""The auditor's workspace data: per-record facets filled at ingest, and the queries over them
(records listing, seeded sample, nonconformity and concession registers, trends, summaries)."""
