import gc
import sys

from jaxnets.main import main

status = main()
gc.freeze()  # the work is done: spare the interpreter's exit a collection over JAX's objects (0.1 s)
sys.exit(status)
