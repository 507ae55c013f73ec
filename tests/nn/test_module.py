"""Module machinery: registration, traversal, modes, dtype, state dicts, repr, containers."""

from collections import OrderedDict

import numpy as np
import pytest

import minicnn
from minicnn import nn


class Block(nn.Module):
    """A module with a parameter, a buffer and a sub-module of its own."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.array([2.0], dtype=np.float32))
        self.register_buffer("count", np.array(0, dtype=np.int64))
        self.register_buffer("stat", np.zeros(3, dtype=np.float32))
        self.inner = nn.Linear(3, 2)

    def forward(self, x):
        return self.inner(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3))
        self.block = Block()
        self.head = nn.Linear(2, 5, bias=False)

    def forward(self, x):
        return self.head(self.block(self.features(x)))


# --- registration and traversal ---------------------------------------------------------


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    assert isinstance(p, minicnn.Tensor) and p.requires_grad
    assert not nn.Parameter(np.ones(3), requires_grad=False).requires_grad
    t = minicnn.tensor(np.arange(3.0))
    assert nn.Parameter(t).data is t.data  # shares, does not copy
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_named_parameters_follow_registration_order_with_dotted_names():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["features.0.weight", "features.0.bias", "features.2.weight",
                     "features.2.bias", "block.scale", "block.inner.weight",
                     "block.inner.bias", "head.weight"]
    assert [p.shape for p in net.parameters()] == [(3, 4), (3,), (3,), (3,), (1,), (2, 3),
                                                   (2,), (5, 2)]
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]


def test_buffers_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == [
        "features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked",
        "block.count", "block.stat"]
    assert all(isinstance(b, np.ndarray) for b in net.buffers())
    assert [n for n, _ in net.named_children()] == ["features", "block", "head"]
    assert list(net.children()) == [net.features, net.block, net.head]
    assert [n for n, _ in net.named_modules()] == [
        "", "features", "features.0", "features.1", "features.2", "block", "block.inner",
        "head"]
    assert next(net.modules()) is net


def test_shared_module_and_parameter_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 3  # seq, shared, relu
    # the state dict names shared weights under every path, as PyTorch does
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_reassigning_and_deleting_attributes():
    block = Block()
    keys = list(block.state_dict())
    block.scale = nn.Parameter(np.array([3.0], dtype=np.float32))
    assert block.scale.data[0] == 3.0
    assert list(block.state_dict()) == keys  # re-assigning keeps the position
    with pytest.raises(TypeError, match="'scale'.*Parameter or None"):
        block.scale = minicnn.tensor([1.0])
    with pytest.raises(TypeError, match="'inner'.*Module or None"):
        block.inner = 3
    with pytest.raises(TypeError, match="'stat'.*numpy.ndarray"):
        block.stat = [1, 2, 3]
    block.stat = np.ones(3, dtype=np.float32)  # a buffer may be replaced by an array
    assert dict(block.named_buffers())["stat"].sum() == 3
    block.scale = None
    assert "scale" not in dict(block.named_parameters())
    del block.inner
    assert "inner" not in dict(block.named_children())
    block.inner = nn.Linear(1, 1)  # a name now used for a module is no longer a buffer
    block.stat = nn.ReLU()
    assert "stat" not in dict(block.named_buffers())
    assert isinstance(block.stat, nn.ReLU)


def test_assigning_before_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgetful()


def test_unknown_attribute_error_names_it():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        nn.Linear(2, 2).wieght


def test_register_buffer_and_parameter_validate():
    m = nn.Module()
    with pytest.raises(TypeError, match="numpy.ndarray"):
        m.register_buffer("b", [1.0])
    with pytest.raises(ValueError, match="no dots"):
        m.register_buffer("a.b", np.zeros(1))
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("w", np.zeros(1))
    m.register_buffer("tmp", np.zeros(2), persistent=False)
    assert "tmp" in dict(m.named_buffers()) and "tmp" not in m.state_dict()


def test_call_runs_forward_and_hooks():
    lin = nn.Linear(3, 2)
    seen = []
    handle = lin.register_forward_hook(lambda mod, inputs, out: seen.append(out.shape))
    pre = lin.register_forward_pre_hook(lambda mod, inputs: seen.append(inputs[0].shape))
    x = minicnn.tensor(np.ones((4, 3), dtype=np.float32))
    lin(x)
    assert seen == [(4, 3), (4, 2)]
    handle.remove()
    pre.remove()
    lin(x)
    assert len(seen) == 2
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(x)


def test_apply_visits_every_module():
    net = Net()
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited[-1] == "Net" and visited.count("Linear") == 3


# --- modes, gradients, freezing ------------------------------------------------------


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert net.training and not net.block.inner.training
    with pytest.raises(TypeError, match="bool"):
        net.train("no")


def test_zero_grad_sets_none_or_zeros():
    lin = nn.Linear(3, 2)
    x = minicnn.tensor(np.ones((4, 3), dtype=np.float32))
    lin(x).sum().backward()
    assert lin.weight.grad is not None
    lin.zero_grad(set_to_none=False)
    assert np.all(lin.weight.grad.data == 0) and lin.weight.grad.shape == (2, 3)
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_requires_grad_freezes_every_parameter():
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), Block())
    assert net[0].requires_grad_(False) is net[0]
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32))
    net(x).sum().backward()
    assert all(p.grad is None for p in net[0].parameters())
    assert all(p.grad is not None for p in net[2].parameters())


# --- dtype ----------------------------------------------------------------------------


def test_double_and_float_convert_parameters_and_floating_buffers():
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), Block(), nn.BatchNorm1d(2))
    x = minicnn.tensor(np.ones((2, 4), dtype=np.float32))
    net[:3](x).sum().backward()
    assert net.double() is net
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert all(p.grad.dtype == np.float64 for p in net[:3].parameters())
    buffers = dict(net.named_buffers())
    assert buffers["3.running_mean"].dtype == np.float64
    assert buffers["3.running_var"].dtype == np.float64
    assert buffers["3.num_batches_tracked"].dtype == np.int64
    assert buffers["2.stat"].dtype == np.float64 and buffers["2.count"].dtype == np.int64
    assert net[:3](minicnn.tensor(np.ones((2, 4)))).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert dict(net.named_buffers())["3.running_var"].dtype == np.float32
    assert net[:3](x).dtype == np.float32
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        net.to(np.int32)


# --- state dicts ----------------------------------------------------------------------


def test_state_dict_keys_order_and_copies():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["features.0.weight", "features.0.bias", "features.2.weight",
                        "features.2.bias", "features.2.running_mean",
                        "features.2.running_var", "features.2.num_batches_tracked",
                        "block.scale", "block.count", "block.stat", "block.inner.weight",
                        "block.inner.bias", "head.weight"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert sd["features.2.num_batches_tracked"].shape == ()
    assert sd["features.2.num_batches_tracked"].dtype == np.int64
    sd["head.weight"][...] = 123  # a copy: the module is untouched
    assert not np.any(net.head.weight.data == 123)


def test_load_state_dict_round_trip_and_dtype_cast():
    source, target = Net(), Net()
    source.features[2].running_mean[...] = 0.5
    sd = source.state_dict()
    sd["head.weight"] = sd["head.weight"].astype(np.float64)  # cast back to float32
    result = target.load_state_dict(sd)
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, source.state_dict()[key])
    assert target.head.weight.dtype == np.float32
    # in place: the parameter objects an optimizer holds are still the module's
    weight = target.head.weight
    target.load_state_dict(source.state_dict())
    assert target.head.weight is weight


def test_load_state_dict_reports_every_problem_and_loads_nothing():
    net = Net()
    before = net.state_dict()
    bad = Net().state_dict()
    del bad["features.0.bias"]
    del bad["block.count"]
    bad["extra.weight"] = np.zeros(2)
    bad["head.weight"] = np.zeros((5, 3))
    bad["features.2.running_var"] = np.zeros(4)
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict(bad)
    message = str(info.value)
    for needle in ("Missing key(s): 'features.0.bias', 'block.count'",
                   "Unexpected key(s): 'extra.weight'",
                   "size mismatch for head.weight: the checkpoint has shape (5, 3), the module "
                   "has shape (5, 2)",
                   "size mismatch for features.2.running_var", "nothing was loaded"):
        assert needle in message
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)
    for key, value in net.state_dict().items():  # nothing half-loaded
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    net = Net()
    partial = {k: v for k, v in Net().state_dict().items() if k.startswith("features.")}
    partial["other"] = np.zeros(1)
    result = net.load_state_dict(partial, strict=False)
    assert result.unexpected_keys == ["other"]
    assert result.missing_keys == ["block.scale", "block.count", "block.stat",
                                   "block.inner.weight", "block.inner.bias", "head.weight"]
    np.testing.assert_array_equal(net.features[0].weight.data, partial["features.0.weight"])
    # a shape mismatch is an error even when not strict
    partial["features.0.weight"] = np.zeros((1, 1))
    with pytest.raises(nn.StateDictError, match="size mismatch for features.0.weight"):
        net.load_state_dict(partial, strict=False)


def test_load_state_dict_accepts_tensors_and_rejects_non_mappings():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"weight": minicnn.tensor(np.eye(2)), "bias": np.zeros(2)})
    np.testing.assert_array_equal(lin.weight.data, np.eye(2))
    with pytest.raises(TypeError, match="mapping"):
        lin.load_state_dict([("weight", np.eye(2))])


# --- repr -----------------------------------------------------------------------------


def test_repr_nests_with_indentation():
    net = Net()
    assert repr(net) == """Net(
  (features): Sequential(
    (0): Linear(in_features=4, out_features=3, bias=True)
    (1): ReLU()
    (2): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
  )
  (block): Block(
    (inner): Linear(in_features=3, out_features=2, bias=True)
  )
  (head): Linear(in_features=2, out_features=5, bias=False)
)"""


# --- containers -----------------------------------------------------------------------


def test_sequential_indexing_slicing_and_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.Tanh()]
    seq = nn.Sequential(*layers)
    assert len(seq) == 4 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[3] and seq[-4] is layers[0]
    head = seq[1:3]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:3]
    assert [n for n, _ in head.named_children()] == ["1", "2"]  # keys are kept
    assert list(seq[::-1]) == layers[::-1]
    with pytest.raises(IndexError, match="index 4 is out of range"):
        seq[4]
    with pytest.raises(TypeError):
        seq["0"]
    x = minicnn.tensor(np.ones((5, 2), dtype=np.float32))
    np.testing.assert_allclose(seq(x).data, layers[3](layers[2](layers[1](layers[0](x)))).data)
    seq[1] = nn.Sigmoid()
    assert isinstance(seq[1], nn.Sigmoid)
    del seq[-1]
    assert len(seq) == 3
    seq.append(nn.ReLU())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]


def test_sequential_from_ordered_dict_uses_its_names():
    seq = nn.Sequential(OrderedDict([("conv", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(seq.state_dict()) == ["conv.weight", "conv.bias"]
    assert seq[1] is seq.act
    assert seq[:1].conv is seq.conv


def test_module_list():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    blocks.append(nn.Linear(2, 3))
    blocks.extend([nn.ReLU()])
    blocks += [nn.Tanh()]
    assert len(blocks) == 5
    assert [n for n, _ in blocks.named_children()] == ["0", "1", "2", "3", "4"]
    assert isinstance(blocks[-1], nn.Tanh) and isinstance(blocks[2], nn.Linear)
    assert isinstance(blocks[1:3], nn.ModuleList) and len(blocks[1:3]) == 2
    assert len(list(blocks.parameters())) == 6
    assert list(blocks.state_dict())[:2] == ["0.weight", "0.bias"]
    del blocks[0]
    assert [n for n, _ in blocks.named_children()] == ["0", "1", "2", "3"]
    blocks.insert(0, nn.Sigmoid())
    assert isinstance(blocks[0], nn.Sigmoid) and len(blocks) == 5
    with pytest.raises(IndexError):
        blocks[5]
    with pytest.raises(TypeError, match="append"):
        blocks.extend(nn.Linear(1, 1))
    with pytest.raises(NotImplementedError):
        blocks(minicnn.tensor([1.0]))


def test_nested_repr_matches_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        return lib.Sequential(OrderedDict([
            ("features", lib.Sequential(lib.Conv2d(3, 8, 3, padding=1), lib.BatchNorm2d(8),
                                        lib.ReLU(inplace=True))),
            ("pool", lib.AdaptiveAvgPool2d((1, 1))),
            ("classifier", lib.Sequential(lib.Flatten(), lib.Dropout(p=0.5),
                                          lib.Linear(8, 10), lib.LeakyReLU(0.2)))]))

    assert repr(build(nn)) == repr(build(torch.nn))


def test_deepcopy_gives_an_independent_module():
    import copy
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    clone = copy.deepcopy(model)
    clone[0].weight.data[...] = 0
    clone[1].running_mean[...] = 5
    assert np.abs(model[0].weight.data).sum() > 0 and np.all(model[1].running_mean == 0)
    assert isinstance(clone[0].weight, nn.Parameter) and clone[0].weight.requires_grad


# --- PyTorch's device/dtype surface and printout (issue 13) ----------------------------------

def test_to_takes_pytorchs_device_dtype_and_tensor_forms():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert model.to("cpu") is model and model.to(minicnn.device("cpu")) is model
    assert model.cpu() is model and model.to(device="cpu", non_blocking=True) is model
    assert model.to("cpu", minicnn.float64)[0].weight.dtype == np.float64
    assert model.to(minicnn.zeros(1, dtype=minicnn.float32))[0].weight.dtype == np.float32
    assert model.to(dtype=minicnn.double)[1].running_mean.dtype == np.float64
    assert model.to(minicnn.float32, False)[0].bias.dtype == np.float32
    assert model[1].num_batches_tracked.dtype == np.int64


def test_to_refuses_other_devices_and_integer_dtypes():
    model = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="'cuda' is not available: minicnn computes on the CPU"):
        model.to("cuda")
    with pytest.raises(ValueError, match="CPU only"):
        model.to(minicnn.device("cuda:0"), minicnn.float32)
    with pytest.raises(TypeError, match="only accepts floating point dtypes.*int64"):
        model.to(minicnn.long)
    with pytest.raises(TypeError, match="unexpected keyword"):
        model.to(devise="cpu")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        model.cuda()
    assert model.weight.dtype == np.float32          # nothing changed on the way


def test_train_eval_apply_return_self_and_apply_visits_children_first():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU()))
    assert model.train() is model and model.eval() is model and not model[1][0].training
    visited = []
    assert model.apply(lambda m: visited.append(type(m).__name__)) is model
    assert visited == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_printout_equals_pytorchs_for_the_tutorials_layers():
    torch = pytest.importorskip("torch")

    def build(nn_):
        return nn_.Sequential(OrderedDict([
            ("flatten", nn_.Flatten()), ("fc", nn_.Linear(784, 512)),
            ("relu", nn_.ReLU(inplace=True)), ("conv", nn_.Conv2d(3, 6, 5)),
            ("conv2", nn_.Conv2d(3, 6, (3, 5), stride=2, padding=1, bias=False)),
            ("pool", nn_.MaxPool2d(2, 2)), ("avg", nn_.AvgPool2d(2)),
            ("bn", nn_.BatchNorm2d(6)), ("drop", nn_.Dropout(0.2)),
            ("softmax", nn_.Softmax(dim=1)), ("logsoftmax", nn_.LogSoftmax(dim=1)),
            ("loss", nn_.MSELoss(reduction="sum")), ("ce", nn_.CrossEntropyLoss()),
            ("list", nn_.ModuleList([nn_.Sigmoid(), nn_.Linear(2, 3, bias=False)]))]))

    assert repr(build(nn)) == repr(build(torch.nn))


def test_pytorchs_traversal_signatures():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in model.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert [n for n, _ in model.named_modules(prefix="net")][:2] == ["net", "net.0"]
    assert [n for n, _ in model.named_parameters(prefix="m")] == ["m.0.weight", "m.0.bias"]
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    assert model.get_submodule("1") is model[1] and model.get_submodule("") is model
    with pytest.raises(AttributeError, match="has no attribute `7`"):
        model.get_submodule("7")


def test_register_buffer_takes_a_tensor_as_pytorch_code_passes_it():
    module = nn.Module()
    mask = minicnn.tensor(np.tril(np.ones((3, 3), np.float32)))
    module.register_buffer("mask", mask)
    assert isinstance(module.mask, np.ndarray) and module.mask is mask.data
    module.mask = minicnn.tensor(np.zeros((3, 3), np.float32))
    assert isinstance(module.mask, np.ndarray) and module.state_dict()["mask"].sum() == 0


def test_module_dict_as_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.ModuleDict({"conv": nn.Conv2d(1, 2, 3), "act": nn.ReLU()})
    theirs = torch.nn.ModuleDict({"conv": torch.nn.Conv2d(1, 2, 3), "act": torch.nn.ReLU()})
    assert repr(ours) == repr(theirs)
    assert list(ours) == ["conv", "act"] and "act" in ours and len(ours) == 2
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours["pool"] = nn.MaxPool2d(2)
    assert list(ours.keys())[-1] == "pool" and isinstance(ours.pop("act"), nn.ReLU)
    assert [name for name, _ in ours.items()] == ["conv", "pool"]


def test_parameter_list_and_dict_register_their_parameters():
    params = nn.ParameterList([nn.Parameter(np.zeros((3, 3), np.float32)),
                               minicnn.tensor(np.ones(2, np.float32))])
    assert len(params) == 2 and isinstance(params[1], nn.Parameter) and params[-1].requires_grad
    assert list(params.state_dict()) == ["0", "1"]
    holder = nn.Module()
    holder.weights = params.append(np.ones(4, np.float32))
    assert [n for n, _ in holder.named_parameters()] == ["weights.0", "weights.1", "weights.2"]
    assert repr(params).splitlines()[1] == \
        "    (0): Parameter containing: [minicnn.float32 of size 3x3]"
    table = nn.ParameterDict({"scale": np.ones(1, np.float32)})
    table["shift"] = nn.Parameter(np.zeros(1, np.float32))
    assert list(table) == ["scale", "shift"] and "shift" in table
    assert len(list(nn.Sequential(nn.Linear(1, 1)).parameters())) == 2


def test_parameter_list_and_dict_as_pytorch():
    """Printout, keys, state-dict keys and the dict/list methods, side by side with torch's."""
    torch = pytest.importorskip("torch")

    def build(lib, nn_):
        def p(*shape):
            return nn_.Parameter(lib.tensor(np.ones(shape, np.float32)))
        plist = nn_.ParameterList([p(2), p(1, 1)])
        plist += [p(3)]
        pdict = nn_.ParameterDict({"b": p(1), "a": p(1, 2)})  # a plain dict: sorted keys
        pdict.update(OrderedDict([("z", p(2)), ("c", p(1))]))  # an OrderedDict: in order
        out = [repr(plist), repr(pdict), list(plist.state_dict()), list(pdict.state_dict()),
               len(plist[1:]), list(reversed(pdict)), pdict.get("q", 5) == 5]
        popped = pdict.pop("z")
        out += [tuple(popped.shape), pdict.popitem()[0], list(pdict.keys()),
                list(pdict.copy().keys()), list(pdict.fromkeys(["x", "y"], p(1)).keys()),
                tuple(pdict.setdefault("n", p(4)).shape), list(pdict)]
        pdict.clear()
        out.append(len(pdict))
        return out

    ours, theirs = build(minicnn, nn), build(torch, torch.nn)
    assert ours[0] == theirs[0].replace("torch.", "minicnn.")
    assert ours[1] == theirs[1].replace("torch.", "minicnn.")
    assert ours[2:] == theirs[2:]


def test_get_submodule_errors_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (nn, torch.nn):
        model = lib.Sequential(lib.Linear(1, 1))
        with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
            model.get_submodule("0.weight")
        with pytest.raises(AttributeError, match="Linear has no attribute `x`"):
            model.get_submodule("0.x")


def test_non_persistent_buffers_as_pytorch():
    torch = pytest.importorskip("torch")
    keys = []
    for lib, zeros in ((nn, np.zeros), (torch.nn, torch.zeros)):
        m = lib.Module()
        m.register_buffer("kept", zeros(1))
        m.register_buffer("scratch", zeros(1), persistent=False)
        m.register_buffer("absent", None)
        keys.append((list(m.state_dict()), [k for k, _ in m.named_buffers()]))
        m.load_state_dict({"kept": zeros(1)})  # strict: a non-persistent one is not missing
    assert keys[0] == keys[1] == (["kept"], ["kept", "scratch"])
