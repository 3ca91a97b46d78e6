import gc
import sys

from jaxnets.runs.cli import main

status = main()
gc.freeze()  # done: the interpreter's exit skips a collection over JAX's objects (0.1 s)
sys.exit(status)
