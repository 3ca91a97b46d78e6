"""The accelerator, proven: one prepared check of jaxnets on a device, in minutes.

    PYTHONPATH=. python3 -m jaxnets.bench.device --device gpu --out results/device/gpu

(`make device-check`; `DEVICE=cpu` runs the same check on the CPU; `--quick` is a run of
seconds, which the test suite runs.) Made for a borrowed GPU that comes bare, for minutes: it
installs nothing and needs nothing but JAX, NumPy, optax, chex and matplotlib and the project's
working tree; PyTorch (the baselines) and pytest (the tests; `make device-deps` puts it in
.device-deps, to carry along) are used where they import, and where one doesn't, the check says
so in one line and goes on. Each part runs under a time cap, checked between the things it
times, so that the whole stays under 8 minutes on one GPU; progress lines show the seconds so
far. The parts:

1. env: the devices JAX sees and their memory (`memory_stats`); Python, JAX, jaxlib, CUDA,
   PyTorch versions (`info`).
2. tests: the suite's device-facing files (core, training, populations, blocks, data-parallel,
   memory check) in a child process on the device, at JAX's default matmul precision (what a
   user gets), with their pass count.
3. book: the book's run ([784, 30, 10], η 3.0, mini-batch 10, 30 epochs, seed 0, with `make
   train`'s keys) on the device at JAX's default matmul precision and at float32, and on the CPU
   in the same process: test accuracy per epoch, seconds per epoch, and the largest difference of
   the parameters from the CPU's after the first epoch.
4. speed: seconds per epoch of jaxnets (SGD in blocks and in plain steps side by side, where
   blocks can run) and of PyTorch on the same device (eager, and `torch.compile` where it works)
   for [784, 30, 10], [784, 100, 10] and [784, 1024, 1024, 10] at mini-batch 10, 100 and 1000,
   timed as `jaxnets.bench.timing` times (interleaved rounds, ratios of the same round).
   `blocks_rule` reads off which networks blocks make faster on this device kind.
5. populations: network-epochs per second of [784, 30, 10] at mini-batch 10 for M = 1, 32, 256,
   1024 and 4096, with a shared shuffle and per-member ones, against one network; then the
   largest M that fits: the largest power of two whose `training_bytes` fit in the device's free
   memory, trained on one block of steps (halved on an out-of-memory error).

Speed and populations run at float32 matmul precision on both sides (`--precision`): PyTorch's
float32 matmuls are exact float32 by default, JAX's may use TF32 on a GPU. Writes
OUT/device-check.json (every number, after each part), device-check.png and device-check.txt (the
lines printed). Exit status 0 when every part ran and every test passed, 1 otherwise, 2 for bad
arguments.

One module a concept: `plan` (what runs, the caps, the clock), `suite` (the tests, in a child
process), `book`, `speed` and `populations` (the parts; `rounds` times their trainers,
`trainers` adds to the benchmark's), `info` (the environment), `report` (the lines and the plot),
`main` (the command line; `python -m jaxnets.bench.device`).
"""
