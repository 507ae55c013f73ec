"""minicnn.rng: manual_seed takes PyTorch's seed range; bad seeds and states name themselves."""

import numpy as np
import pytest

import minicnn
from minicnn.rng import get_rng, get_rng_state, manual_seed, set_rng_state


@pytest.fixture(autouse=True)
def _keep_the_generator():
    """These tests reseed minicnn's generator: give the next test the state it had."""
    state = get_rng_state()
    yield
    set_rng_state(state)


def _stream(seed):
    return manual_seed(seed).random(8)


def test_negative_seeds_wrap_modulo_2_64():
    # NumPy refused -1 with a bare "expected non-negative integer"
    assert np.array_equal(_stream(-1), _stream(-1))
    assert not np.array_equal(_stream(-1), _stream(1))
    assert np.array_equal(_stream(-1), _stream(2**64 - 1))
    assert np.array_equal(_stream(-2**63), _stream(2**63))
    assert np.array_equal(_stream(np.int64(-5)), _stream(-5))
    assert np.array_equal(_stream(np.uint64(2**64 - 1)), _stream(-1))


def test_manual_seed_replaces_the_generator_every_draw_uses():
    generator = minicnn.manual_seed(-3)
    assert get_rng() is generator


@pytest.mark.parametrize("seed", [-1, 0, 7, -2**63, 2**64 - 1, 2**63])
def test_seed_maps_as_torch_initial_seed_reports(seed):
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    assert np.array_equal(_stream(seed), np.random.default_rng(torch.initial_seed()).random(8))


@pytest.mark.parametrize("seed", [2**64, -2**63 - 1, 10**30])
def test_out_of_range_seed_is_a_value_error_naming_it(seed):
    before = get_rng_state()
    with pytest.raises(ValueError, match=rf"manual_seed: seed must be an int in "
                                         rf"\[-9223372036854775808, 18446744073709551615\], "
                                         rf"got {seed}$"):
        manual_seed(seed)
    assert get_rng_state() == before


def test_out_of_range_is_a_value_error_in_torch_too():
    torch = pytest.importorskip("torch")
    for seed in (2**64, -2**63 - 1):
        with pytest.raises(ValueError):
            torch.manual_seed(seed)


@pytest.mark.parametrize("seed", [1.5, 1.0, np.float64(2.0), float("nan"), True, False, "1",
                                  None, [1]])
def test_a_seed_that_is_not_an_int_is_a_type_error_naming_it(seed):
    # PyTorch truncates 1.5 to 1 and takes True as 1; minicnn refuses them, as its other
    # int arguments (a bool is not an int), with the TypeError PyTorch gives for None
    before = get_rng_state()
    with pytest.raises(TypeError, match=r"manual_seed: seed must be an int, got ") as info:
        manual_seed(seed)
    assert str(info.value).endswith(repr(seed))
    assert get_rng_state() == before


@pytest.mark.parametrize("state", [None, 5, {}, {"bit_generator": "PCG64"},
                                   {"bit_generator": "MT19937", "state": {}}])
def test_set_rng_state_refuses_what_is_not_a_state(state):
    before = get_rng_state()
    with pytest.raises(ValueError, match=r"set_rng_state: state must be a dict returned by "
                                         r"get_rng_state, got "):
        set_rng_state(state)
    assert get_rng_state() == before


def test_state_round_trips():
    manual_seed(-1)
    state = get_rng_state()
    first = get_rng().random(4)
    set_rng_state(state)
    assert np.array_equal(get_rng().random(4), first)


def test_a_generator_of_its_own_as_pytorch_code_passes_one():
    first = minicnn.Generator().manual_seed(42)
    second = minicnn.Generator().manual_seed(42)
    assert isinstance(first, np.random.Generator)
    np.testing.assert_array_equal(first.random(5), second.random(5))
    from minicnn.utils.data import TensorDataset, random_split
    dataset = TensorDataset(minicnn.arange(10))
    splits = [random_split(dataset, [0.7, 0.3], generator=minicnn.Generator().manual_seed(1))
              for _ in range(2)]
    assert [len(s) for s in splits[0]] == [7, 3]
    assert list(splits[0][0].indices) == list(splits[1][0].indices)
    state = first.get_state()
    value = first.random()
    assert first.set_state(state).random() == value
    with pytest.raises(TypeError, match="seed must be an int"):
        minicnn.Generator().manual_seed(1.5)
    with pytest.raises(ValueError, match="CPU only"):
        minicnn.Generator(device="cuda")
