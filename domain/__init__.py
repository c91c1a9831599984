"""Aggregates and pure business rules of Xiaobao Ledger (no I/O here)."""
