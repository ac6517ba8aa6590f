"""Errors a user can cause. Each message is one plain sentence: the CLI prints
it on one line (exit 2) and the window shows it in a message box."""


class StudioError(ValueError):
    """Base class: a problem with what the user asked for, not a bug."""


class ConfigError(StudioError):
    """A setting is out of range or unknown."""


class DataError(StudioError):
    """The training text or a prompt cannot be used."""


class CheckpointError(StudioError):
    """A checkpoint file is missing, damaged, foreign or unsafe."""


class DeviceError(StudioError):
    """The requested device is not available on this machine."""
