"""The ground every step stands on: errors with positions, the YAML loader, expressions, the graph model, units, breakdowns."""
__version__ = "0.1.0"
