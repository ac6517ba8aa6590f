"""RNN Studio's engine: data, models, trainer, generation, checkpoints. No Qt here.

The names below load on first use (PEP 562), so ``import rnn_studio.core.config``
or ``rnn_studio.core.text`` does not pull in torch: the window paints before
torch has finished loading.
"""

from importlib import import_module

_EXPORTS = {
    "RunConfig": "config", "defaults_for": "config", "validate": "config",
    "CheckpointError": "errors", "ConfigError": "errors", "DataError": "errors", "DeviceError": "errors",
    "StudioError": "errors",
    "Completion": "generation", "complete": "generation",
    "StepReport": "training", "Trainer": "training",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rnn_studio.core' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
