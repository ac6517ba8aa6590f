"""Device names: what this machine has, and a plain error for what it has not."""

from __future__ import annotations

import pytest
import torch

from rnn_studio.core.devices import available_devices, resolve_device, unavailable_reasons
from rnn_studio.core.errors import DeviceError

CUDA = torch.cuda.is_available()
MPS = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def test_cpu_always_there():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert available_devices()[0].name == "cpu"


def test_auto_picks_the_best_available():
    expected = "cuda" if CUDA else ("mps" if MPS else "cpu")
    assert resolve_device("auto").type == expected
    assert resolve_device(None).type == expected
    assert resolve_device("").type == expected


@pytest.mark.parametrize("name", ["foo", "gpu", "tpu", "cuda:x", "cuda:-1", "mps:0"])
def test_unknown_or_malformed_names(name):
    if CUDA and name.startswith("cuda"):
        pytest.skip("CUDA here")
    with pytest.raises(DeviceError) as err:
        resolve_device(name)
    assert "\n" not in str(err.value)


@pytest.mark.skipif(CUDA, reason="CUDA is available here")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "CUDA"])
def test_cuda_missing_is_a_device_error(name):
    with pytest.raises(DeviceError, match="not available"):
        resolve_device(name)
    assert "cuda" in unavailable_reasons()


@pytest.mark.skipif(MPS, reason="MPS is available here")
def test_mps_missing_is_a_device_error():
    with pytest.raises(DeviceError, match="mps"):
        resolve_device("mps")
    assert "mps" in unavailable_reasons()


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_cuda_index_out_of_range():
    with pytest.raises(DeviceError, match="does not exist"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
