"""jaxnets: the mechanics of Nielsen's chapter 1 as pure JAX functions over parameter pytrees."""

from jaxnets.checkpoint import CheckpointError as CheckpointError
from jaxnets.checkpoint import load_params as load_params
from jaxnets.checkpoint import save_params as save_params
from jaxnets.cost import quadratic_cost as quadratic_cost
from jaxnets.data import DataError as DataError
from jaxnets.data import Dataset as Dataset
from jaxnets.data import Splits as Splits
from jaxnets.data import load_mnist as load_mnist
from jaxnets.datasets import load_dataset as load_dataset
from jaxnets.datasets import load_idx as load_idx
from jaxnets.datasets import load_tfds as load_tfds
from jaxnets.datasets import read_idx as read_idx
from jaxnets.evaluation import accuracy as accuracy
from jaxnets.evaluation import evaluate as evaluate
from jaxnets.evaluation import predict as predict
from jaxnets.gradient_descent import gradient_descent as gradient_descent
from jaxnets.network import Layer as Layer
from jaxnets.network import Params as Params
from jaxnets.network import feedforward as feedforward
from jaxnets.network import feedforward_batch as feedforward_batch
from jaxnets.network import init_params as init_params
from jaxnets.network import layer_sizes as layer_sizes
from jaxnets.neurons import perceptron as perceptron
from jaxnets.neurons import sigmoid as sigmoid
from jaxnets.neurons import sigmoid_neuron as sigmoid_neuron
from jaxnets.sgd import minibatch_gradient as minibatch_gradient
from jaxnets.sgd import per_example_gradients as per_example_gradients
from jaxnets.sgd import sgd_step as sgd_step
from jaxnets.train import History as History
from jaxnets.train import TrainingDiverged as TrainingDiverged
from jaxnets.train import data_mesh as data_mesh
from jaxnets.train import epoch_order as epoch_order
from jaxnets.train import fit as fit
from jaxnets.train import train_epoch as train_epoch

__version__ = "0.1.0"
