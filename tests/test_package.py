"""The package as a user imports it: a bare ``import minicnn`` reaches every documented
subpackage (issue 12: ``minicnn.models.resnet50()`` raised AttributeError)."""

import subprocess
import sys

import pytest

DOCUMENTED = ["functional", "nn", "optim", "data", "models", "train", "coursework", "ops",
              "kernels", "opchecks", "utils", "vision", "distributed", "autograd"]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_a_bare_import_reaches_each_subpackage(name):
    # A fresh interpreter: in this process other tests have imported everything already.
    code = f"import minicnn, types; assert isinstance(minicnn.{name}, types.ModuleType)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_readme_model_example_runs_after_a_bare_import():
    code = ("import minicnn; m = minicnn.models.resnet20(); "
            "print(sum(p.data.size for p in m.parameters()))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "269722"


def test_an_unknown_attribute_is_an_attribute_error():
    import minicnn
    with pytest.raises(AttributeError, match="no attribute 'not_a_subpackage'"):
        minicnn.not_a_subpackage
