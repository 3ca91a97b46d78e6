"""The engine under the book: how an epoch of mini-batch SGD runs fast. Private.

The book's modules say what SGD computes; `jaxnets.train` and `jaxnets.population` say what a run
is (epochs, validation, test). This package runs it:

- `program`: an epoch as one compiled program: the mini-batches gathered a chunk at a time, a
  `lax.scan` of steps, a population's members axis (`jax.vmap`), data-parallel sharding, and
  the epoch's metrics; the evaluation of a set.
- `blocks`: the same SGD over blocks of steps (its sums re-associated so that a step reads each
  weight matrix and writes none), and the rule that says where it applies.
- `device`: arrays onto the device, a long epoch cut into calls, reading replicated values.
- `loop`: the loop over epochs that `fit` and `fit_population` share.
- `memory`: the FLOPs of an epoch and the bytes a run holds (estimates, nothing allocated).

docs/design.md says why each piece is as it is, with the measurements.
"""
