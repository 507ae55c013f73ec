"""minicnn is CPU-only and says so: the device boilerplate of PyTorch code runs, and a GPU
request is an error that names the reason."""

import pytest

import minicnn


def test_the_standard_device_boilerplate_selects_the_cpu():
    device = ("cuda" if minicnn.cuda.is_available()
              else "mps" if minicnn.backends.mps.is_available() else "cpu")
    assert device == "cpu"
    assert minicnn.device(device) == "cpu" == minicnn.device("cpu:0").type
    assert minicnn.cuda.device_count() == 0
    minicnn.cuda.manual_seed(0)  # a no-op without a GPU, as in PyTorch
    minicnn.backends.cudnn.benchmark = True  # settable, ignored


def test_devices_print_and_compare_as_pytorch():
    assert str(minicnn.device("cpu")) == "cpu"
    assert repr(minicnn.device("cpu")) == "device(type='cpu')"
    assert str(minicnn.device("cuda:1")) == "cuda:1"
    assert minicnn.device("cuda") != minicnn.device("cpu")
    assert minicnn.device("cpu") != "not a device"
    assert len({minicnn.device("cpu"), minicnn.device("cpu")}) == 1


def test_naming_a_gpu_is_allowed_but_putting_a_tensor_there_is_an_error():
    gpu = minicnn.device("cuda")  # PyTorch lets code name it; using it is what fails
    with pytest.raises(ValueError, match="CPU only"):
        minicnn.zeros(2, device=gpu)
    with pytest.raises(ValueError, match="CPU only"):
        minicnn.arange(3, device="cuda:0")
    with pytest.raises(RuntimeError, match="CPU only"):
        minicnn.cuda.current_device()


@pytest.mark.parametrize("name", ["cheese", "cuda:x", "gpu", ""])
def test_unknown_device_strings_are_refused(name):
    with pytest.raises(ValueError, match="device"):
        minicnn.device(name)


def test_a_non_string_device_is_a_type_error():
    with pytest.raises(TypeError, match="device name"):
        minicnn.device(3.5)


def test_set_default_device_accepts_the_cpu_only():
    minicnn.set_default_device("cpu")
    minicnn.set_default_device(None)
    assert minicnn.get_default_device() == "cpu"
    with pytest.raises(ValueError, match="CPU only"):
        minicnn.set_default_device("cuda")


def test_the_accelerator_boilerplate_of_newer_tutorials_selects_the_cpu():
    device = (minicnn.accelerator.current_accelerator().type
              if minicnn.accelerator.is_available() else "cpu")
    assert device == "cpu"
