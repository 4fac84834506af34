"""Reporting's use cases, one module per capability: `ingest` (count event batches),
`reports` (session, summary and demand reports), `ranking` (publish demand rankings),
`rebuild` (replay the stream into emptied tables)."""
