"""jaxnets: the mechanics of Nielsen's chapter 1 as pure JAX functions over parameter pytrees.

The book, one idea a module, read in this order: `neurons` (perceptron, sigmoid neuron),
`network` (feed-forward sigmoid layers), `cost` (the quadratic cost), `gradient_descent`, `sgd`
(a step and an epoch of mini-batch SGD), `evaluation` (accuracy), `train` (epochs compiled whole,
validation and test, `fit`); then `population` (many networks trained at once: `jax.vmap`).
Under them, the private `_engine` makes an epoch one fast compiled program. Beside them, the
tooling: `jaxnets.data` (bundled MNIST, IDX folders, TFDS), `jaxnets.runs` (config, checkpoints,
a run's folder) and `jaxnets.bench` (the benchmark); `jaxnets.cli` is the command line.

Arrays are named by their shapes, as in nanodo: `w_OxI` has shape (O, I). The letters:

  N  examples of a dataset              B  examples of a mini-batch (m in the book)
  I  inputs of a layer (n_in)           O  outputs of a layer (n_out)
  S  mini-batches (steps) of an epoch   K  mini-batches gathered at once (a chunk)
  R  examples of the last, smaller mini-batch
  M  members of a population of networks trained at once
  E  epochs of a run                    T  mini-batches (steps) of a block of SGD
  H  units of the first hidden layer    J  rows of a population's stacked first layers (M·H)
  L  layers of a network (a list, one entry each)
  D  any trailing axis (inputs or outputs alike)
"""

from jaxnets._checks import InputError, TrainingDiverged
from jaxnets.cost import quadratic_cost, targets
from jaxnets.data import Dataset, Splits, load_dataset, load_mnist
from jaxnets.evaluation import accuracy, evaluate, predict
from jaxnets.gradient_descent import gradient_descent
from jaxnets.history import History, PopulationHistory
from jaxnets.network import Layer, Params, feedforward, feedforward_batch, init_params, layer_sizes
from jaxnets.neurons import perceptron, sigmoid, sigmoid_neuron
from jaxnets.population import (
  evaluate_population,
  fit_population,
  init_population,
  member,
  population_size,
  train_population_epoch,
)
from jaxnets.runs.checkpoint import load_params, save_params
from jaxnets.sgd import (
  SGD,
  minibatch_gradient,
  minibatch_indices,
  per_example_gradients,
  sgd_step,
  with_learning_rate,
)
from jaxnets.train import epoch_order, fit, train_epoch

__all__ = [
  # neurons
  "perceptron",
  "sigmoid",
  "sigmoid_neuron",
  # network
  "Layer",
  "Params",
  "feedforward",
  "feedforward_batch",
  "init_params",
  "layer_sizes",
  # cost
  "quadratic_cost",
  "targets",
  # gradient descent and SGD
  "gradient_descent",
  "minibatch_gradient",
  "minibatch_indices",
  "per_example_gradients",
  "sgd_step",
  "SGD",
  "with_learning_rate",
  # evaluation
  "accuracy",
  "evaluate",
  "predict",
  # training
  "epoch_order",
  "fit",
  "train_epoch",
  "History",
  # populations
  "evaluate_population",
  "fit_population",
  "init_population",
  "member",
  "population_size",
  "train_population_epoch",
  "PopulationHistory",
  # data and saved networks
  "Dataset",
  "Splits",
  "load_dataset",
  "load_mnist",
  "load_params",
  "save_params",
  # errors
  "InputError",
  "TrainingDiverged",
]

__version__ = "0.2.0"
