"""To and from frameworks: PyTorch source and modules from a graph."""
