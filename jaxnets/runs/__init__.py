"""Runs: a config, its data, `fit`, and the run's folder of files.

- `TrainConfig` (`config`): a run, frozen, from defaults, a JSON or TOML file and flags.
- `train` (`run`): checks everything, trains, checkpoints, and writes the run's folder.
- `Recorder` (`recorder`): `fit`'s `on_epoch` that writes checkpoints, metrics and curves, shows
  progress and stops on a signal: usable from a notebook as from the command line.
- `save_params`, `load_params`, `save_checkpoint`, `load_checkpoint` (`checkpoint`): npz files,
  no pickle, atomic, checksummed.
- `check_memory` (`memory`): a run refused before it allocates more than the machine has.
"""

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
from jaxnets.runs.recorder import Recorder, RunDiverged, RunInterrupted, RunWriteFailed
from jaxnets.runs.run import RunError, population_keys, train

__all__ = [
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
  "load_checkpoint",
  "load_params",
  "population_keys",
  "save_checkpoint",
  "save_params",
  "train",
  "training_bytes",
  "write_atomic",
  "write_json",
  "write_png",
]
