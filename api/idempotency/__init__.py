"""Idempotency keys for POST endpoints (API.md, "Conventions")."""
