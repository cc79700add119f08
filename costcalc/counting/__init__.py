"""Counting conventions: which quantities of a layer each tool counts (conventions.yaml)."""
