import sys

from jaxnets.main import main

sys.exit(main())
