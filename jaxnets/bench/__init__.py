"""The benchmark, `python -m jaxnets bench`, with its NumPy and PyTorch baselines."""
