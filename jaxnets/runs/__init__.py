"""Runs: a config, its data, `fit`, and the run's folder of files.

- `TrainConfig` (`config`): a run, frozen, from defaults, a JSON or TOML file and flags.
- `train` (`run`): checks everything, trains, checkpoints, and writes the run's folder.
- `Recorder` (`recorder`): `fit`'s `on_epoch` that writes checkpoints, metrics, curves and
  pictures, shows progress and stops on a signal: usable from a notebook as from the command line.
- `curves_figure` (`plots`), `weights_figure`, `mistakes_figure`, `confusion_figure`,
  `confusion_matrix` (`pictures`): what a network learned, as matplotlib figures.
- `predict` (the module): `python -m jaxnets predict`, a network's answers for your own images.
- `save_params`, `load_params`, `save_checkpoint`, `load_checkpoint` (`checkpoint`): npz files,
  no pickle, atomic, checksummed.
- `check_memory` (`memory`): a run refused before it allocates more than the machine has.
- `use_host_devices` (the engine's): CPU devices for a population's members, set before JAX's
  first computation, as the command line sets them.
"""

from jaxnets._engine.device import use_host_devices
from jaxnets._files import WriteError, write_atomic, write_json, write_png
from jaxnets.runs.checkpoint import (
  Checkpoint,
  CheckpointError,
  load_checkpoint,
  load_params,
  save_checkpoint,
  save_params,
)
from jaxnets.runs.config import ConfigError, TrainConfig
from jaxnets.runs.memory import OutOfMemory, available_bytes, check_memory, training_bytes
from jaxnets.runs.pictures import (
  confusion_figure,
  confusion_matrix,
  mistakes_figure,
  weights_figure,
)
from jaxnets.runs.plots import curves_figure, write_pictures
from jaxnets.runs.recorder import Recorder, RunDiverged, RunInterrupted, RunWriteFailed
from jaxnets.runs.run import RunError, population_keys, train

__all__ = [
  "use_host_devices",
  "Checkpoint",
  "CheckpointError",
  "ConfigError",
  "OutOfMemory",
  "Recorder",
  "RunDiverged",
  "RunError",
  "RunInterrupted",
  "RunWriteFailed",
  "TrainConfig",
  "WriteError",
  "available_bytes",
  "check_memory",
  "confusion_figure",
  "confusion_matrix",
  "curves_figure",
  "load_checkpoint",
  "load_params",
  "mistakes_figure",
  "population_keys",
  "save_checkpoint",
  "save_params",
  "train",
  "training_bytes",
  "weights_figure",
  "write_atomic",
  "write_json",
  "write_pictures",
  "write_png",
]
