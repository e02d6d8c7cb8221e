"""Refs, trees, transactions, notes, liveness and caches, on git."""
