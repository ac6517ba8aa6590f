"""Which devices this machine can train on, and turning a name into one."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import DeviceError


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # what torch.device takes: "cpu", "cuda:0", "mps"
    label: str  # what a person reads


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def available_devices() -> list[DeviceInfo]:
    devices = [DeviceInfo("cpu", "CPU")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            devices.append(DeviceInfo(f"cuda:{i}", f"CUDA {i}: {torch.cuda.get_device_name(i)}"))
    if _mps_available():
        devices.append(DeviceInfo("mps", "Apple GPU (MPS)"))
    return devices


def unavailable_reasons() -> dict[str, str]:
    """Devices this machine cannot use, each with the reason in one sentence."""
    reasons = {}
    if not torch.cuda.is_available():
        if torch.version.cuda is None:
            reasons["cuda"] = "CUDA is not available: this PyTorch build has no CUDA support"
        else:
            reasons["cuda"] = "CUDA is not available: no NVIDIA GPU or driver was found"
    if not _mps_available():
        reasons["mps"] = "MPS is only available on Apple-silicon Macs"
    return reasons


def resolve_device(name: str = "auto") -> torch.device:
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device '{name}' is not available here: " + unavailable_reasons()["cuda"].split(": ", 1)[1])
        if ":" in name:
            index = name.split(":", 1)[1]
            if not index.isdigit() or int(index) >= torch.cuda.device_count():
                raise DeviceError(f"device '{name}' does not exist: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return torch.device(name)
    if name == "mps":
        if not _mps_available():
            raise DeviceError("device 'mps' is not available here: MPS is only available on Apple-silicon Macs")
        return torch.device("mps")
    raise DeviceError(f"unknown device '{name}' (choose auto, cpu, cuda or mps)")
