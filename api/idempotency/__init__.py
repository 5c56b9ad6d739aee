"""Idempotency keys for POST endpoints (docs/reference/api.md, "Idempotency")."""
