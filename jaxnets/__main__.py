from jaxnets.runs.cli import entry_point

entry_point()
