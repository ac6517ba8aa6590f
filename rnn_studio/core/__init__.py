"""RNN Studio's engine: data, models, trainer, generation, checkpoints. No Qt here."""

from .config import RunConfig, defaults_for, validate
from .errors import CheckpointError, ConfigError, DataError, DeviceError, StudioError
from .generation import Completion, complete
from .training import StepReport, Trainer

__all__ = [
    "CheckpointError", "Completion", "ConfigError", "DataError", "DeviceError", "RunConfig", "StepReport",
    "StudioError", "Trainer", "complete", "defaults_for", "validate",
]
