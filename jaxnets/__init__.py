"""jaxnets: the mechanics of Nielsen's chapter 1 as pure JAX functions over parameter pytrees.

The book, one idea a module, read in this order: `neurons` (perceptron, sigmoid neuron),
`network` (feed-forward sigmoid layers), `cost` (the quadratic cost), `gradient_descent`, `sgd`
(a step and an epoch of mini-batch SGD), `evaluation` (accuracy), `train` (epochs compiled whole,
validation and test, `fit`); then `population` (many networks trained at once: `jax.vmap`).
The tooling sits behind it in subpackages: `jaxnets.data` (bundled MNIST, IDX folders, TFDS),
`jaxnets.runs` (config, checkpoints, a run's folder, the command line) and `jaxnets.bench` (the
benchmark and its NumPy and PyTorch baselines).

Arrays are named by their shapes, as in nanodo: `w_OxI` has shape (O, I). The letters:

  N  examples of a dataset              B  examples of a mini-batch (m in the book)
  I  inputs of a layer (n_in)           O  outputs of a layer (n_out)
  S  mini-batches (steps) of an epoch   K  mini-batches gathered at once (a chunk)
  C  chunks of an epoch                 R  examples of the last, smaller mini-batch
  M  members of a population of networks trained at once
  E  epochs of a run                    T  mini-batches (steps) of a block of SGD
  H  units of the first hidden layer    J  rows of a population's stacked first layers (M·H)
  L  layers of a network (a list, one entry each)
"""

from jaxnets._checks import InputError, TrainingDiverged
from jaxnets.cost import quadratic_cost
from jaxnets.data import DataError, Splits, load_dataset, load_idx, load_mnist, load_tfds, read_idx
from jaxnets.evaluation import accuracy, evaluate, predict
from jaxnets.gradient_descent import gradient_descent
from jaxnets.network import Layer, Params, feedforward, feedforward_batch, init_params, layer_sizes
from jaxnets.neurons import perceptron, sigmoid, sigmoid_neuron
from jaxnets.population import (
  fit_population,
  init_population,
  member,
  population_size,
  train_population_epoch,
)
from jaxnets.runs.checkpoint import CheckpointError, WriteError, load_params, save_params
from jaxnets.sgd import minibatch_gradient, per_example_gradients, sgd_epoch, sgd_step
from jaxnets.train import (
  SGD,
  Dataset,
  History,
  data_mesh,
  epoch_order,
  fit,
  train_epoch,
  with_learning_rate,
)

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
  # gradient descent and SGD
  "gradient_descent",
  "minibatch_gradient",
  "per_example_gradients",
  "sgd_epoch",
  "sgd_step",
  # evaluation
  "accuracy",
  "evaluate",
  "predict",
  # training
  "SGD",
  "Dataset",
  "History",
  "TrainingDiverged",
  "data_mesh",
  "epoch_order",
  "fit",
  "train_epoch",
  "with_learning_rate",
  # populations
  "fit_population",
  "init_population",
  "member",
  "population_size",
  "train_population_epoch",
  # errors
  "InputError",
  # tooling: data and saved networks
  "CheckpointError",
  "DataError",
  "Splits",
  "load_dataset",
  "load_idx",
  "load_mnist",
  "load_params",
  "load_tfds",
  "read_idx",
  "save_params",
  "WriteError",
]

__version__ = "0.1.0"
