"""Runs: a config, its data, `fit`, and the run's folder of files; the command line."""
