"""Expansion: a validated Spec and its settings to a graph of layers with every shape known."""
