"""The pipeline and what it computes from a graph: report, explain, memory, roofline, check, compare, sweep."""
