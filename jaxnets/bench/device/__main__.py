"""`python -m jaxnets.bench.device`: the device check (`main`)."""

from jaxnets.bench.device.main import main

if __name__ == "__main__":
  raise SystemExit(main())
