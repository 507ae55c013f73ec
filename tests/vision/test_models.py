"""minicnn.vision.models: torchvision's builders and weights, never downloading."""

import numpy as np
import pytest

import minicnn
from minicnn.vision import models


def test_builders_accept_torchvisions_arguments():
    model = models.squeezenet1_1(weights=None, num_classes=7)
    assert isinstance(model, minicnn.models.SqueezeNet)
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        assert isinstance(models.squeezenet1_1(pretrained=False), minicnn.models.SqueezeNet)
    assert models.resnet18.__name__ == "resnet18"
    assert isinstance(models.googlenet(weights=None, aux_logits=False), models.GoogLeNet)


def test_weights_enums_as_torchvision():
    weights = models.ResNet18_Weights.DEFAULT
    assert weights is models.ResNet18_Weights.IMAGENET1K_V1
    assert weights.url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    assert models.ResNet50_Weights.DEFAULT is models.ResNet50_Weights.IMAGENET1K_V2
    assert models.VGG16_Weights.verify("IMAGENET1K_V1") is models.VGG16_Weights.IMAGENET1K_V1
    assert models.VGG16_Weights.verify("VGG16_Weights.DEFAULT").url.endswith("vgg16-397923af.pth")
    with pytest.raises(ValueError, match="Invalid weights"):
        models.VGG16_Weights.verify("IMAGENET9K")
    preset = models.ResNet18_Weights.DEFAULT.transforms()
    from PIL import Image
    out = preset(Image.fromarray(np.zeros((300, 400, 3), np.uint8)))
    assert out.shape == (3, 224, 224)
    np.testing.assert_allclose(out.data[:, 0, 0], -np.array([0.485, 0.456, 0.406])
                               / np.array([0.229, 0.224, 0.225]), rtol=1e-5)


def test_a_weights_request_without_the_file_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(RuntimeError) as info:
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    message = str(info.value)
    assert "never downloads" in message and "resnet18-f37072fd.pth" in message
    assert str(tmp_path / "hub" / "checkpoints") in message
    assert "minicnn.load_torch_state_dict" in message
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(RuntimeError, match="never downloads"), \
            pytest.warns(UserWarning, match="pretrained"):
        models.vgg11(pretrained=True)
    with pytest.raises(ValueError, match="'num_classes' expected value 1000 but got 10"):
        models.resnet18(weights="DEFAULT", num_classes=10)


def test_weights_load_from_torchs_cache(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    reference = models.squeezenet1_1()
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save({key: torch.from_numpy(value) for key, value in reference.state_dict().items()},
               folder / "squeezenet1_1-b8a52dc0.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    loaded = models.squeezenet1_1(weights=models.SqueezeNet1_1_Weights.DEFAULT)
    for key, value in reference.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[key], value, err_msg=key)


def test_hub_dir_follows_torchs_rules(monkeypatch, tmp_path):
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert models.hub_checkpoints_dir() == tmp_path / "torch" / "hub" / "checkpoints"


def test_googlenet_weights_drop_the_auxiliary_heads_as_torchvision(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    reference = minicnn.models.googlenet(aux_logits=True)      # torchvision's file has them
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save({key: torch.from_numpy(value) for key, value in reference.state_dict().items()},
               folder / "googlenet-1378be20.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    model = models.googlenet(weights=models.GoogLeNet_Weights.IMAGENET1K_V1)
    assert model.transform_input and not model.aux_logits and model.aux1 is None
    assert not any(key.startswith("aux") for key in model.state_dict())
    np.testing.assert_array_equal(model.conv1.conv.weight.data,
                                  reference.conv1.conv.weight.data)
    kept = models.googlenet(weights="DEFAULT", aux_logits=True, transform_input=False)
    assert kept.aux1 is not None and not kept.transform_input
    assert models.Inception_V3_Weights.DEFAULT.url.endswith("inception_v3_google-0cc3c7bd.pth")


def test_weights_meta_names_the_imagenet_classes():
    categories = models.ResNet50_Weights.DEFAULT.meta["categories"]
    assert len(categories) == 1000 and len(set(categories)) == 1000
    assert categories[0] == "tench" and categories[999] == "toilet tissue"
    assert categories[207] == "golden retriever"
