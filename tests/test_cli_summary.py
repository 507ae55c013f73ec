"""``python -m minicnn summary MODEL``: the table, default inputs per model, options, and
one-line errors (exit 2) for an unknown model or a malformed --input."""

import os
import subprocess
import sys

import pytest

from minicnn import models
from minicnn.__main__ import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "minicnn", "summary", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def error_of(capsys, argv):
    """The exit code and stderr of an invocation that must fail."""
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


def test_prints_the_table_with_the_models_default_input(capsys):
    assert main(["summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert "Summary of LeNet5 on an input of shape [1, 1, 32, 32]" in out
    assert "Total params:         61,706" in out
    assert "Total MACs:           416,520" in out
    assert "features.0" in out and "classifier.4" in out


def test_num_classes_input_and_depth(capsys):
    assert main(["summary", "resnet20", "--num-classes", "100", "--input", "3x40x40",
                 "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "on an input of shape [1, 3, 40, 40]" in out
    assert "Total params:         275,572" in out  # 269,722 - (64 * 10 + 10) + (64 * 100 + 100)
    table = out.split("Total params")[0]
    assert "layer1 " in table and "layer1.0" not in table  # depth 1: stages folded
    assert "[1, 100]" in table


def test_default_inputs():
    assert models.input_shape("lenet5") == (1, 32, 32)
    assert models.input_shape("inception_v3") == (3, 299, 299)
    assert all(models.input_shape(f"resnet{depth}") == (3, 32, 32) for depth in (20, 32, 44, 56))
    assert models.input_shape("resnet50") == models.IMAGENET_INPUT == (3, 224, 224)
    assert set(models._INPUT_SHAPES) <= set(models.__all__)  # no default for a renamed model
    with pytest.raises(ValueError, match="unknown model 'resnet7'; known models: alexnet"):
        models.input_shape("resnet7")
    with pytest.raises(ValueError, match="unknown model 'input_shape'"):
        models.get_model("input_shape")


def test_unknown_model_is_a_one_line_error(capsys):
    code, err = error_of(capsys, ["summary", "resnet51"])
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("python -m minicnn summary: error: argument MODEL: unknown model "
                          "'resnet51'; known models: ")
    assert "resnet50" in err


@pytest.mark.parametrize("text", ["3x32", "3x32x32x1", "3x0x32", "axbxc", "3*32*32", "",
                                  "-3x2x2", "3x\u00b2x2"])
def test_malformed_input_is_a_one_line_error(capsys, text):
    code, err = error_of(capsys, ["summary", "resnet20", f"--input={text}"])
    assert code == 2
    assert err.count("\n") == 1
    assert "argument --input: expected CxHxW with three positive ints" in err
    assert repr(text) in err


def test_an_input_the_model_cannot_take_is_a_one_line_error(capsys):
    code, err = error_of(capsys, ["summary", "resnet20", "--input", "1x32x32"])
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("python -m minicnn summary: error: argument --input: ")
    assert "channel" in err


@pytest.mark.parametrize("option, value", [("--num-classes", "0"), ("--num-classes", "ten"),
                                           ("--depth", "-1"), ("--depth", "1.5")])
def test_bad_numbers_are_one_line_errors(capsys, option, value):
    code, err = error_of(capsys, ["summary", "resnet20", f"{option}={value}"])
    assert code == 2 and err.count("\n") == 1
    assert f"argument {option}: expected an int >= " in err and repr(value) in err


def test_no_traceback_from_the_command_line():
    result = run_cli("lenet5", "--input", "1x8x8")
    assert result.returncode == 2
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "argument --input" in result.stderr


@pytest.mark.slow
def test_resnet50_from_the_command_line():
    result = run_cli("resnet50")
    assert result.returncode == 0, result.stderr
    assert "Summary of ResNet on an input of shape [1, 3, 224, 224]" in result.stdout
    assert "Total params:         25,557,032" in result.stdout
    assert "(4.089 GMACs)" in result.stdout
    assert "layer4.2.downsample" not in result.stdout and "layer4.0.downsample.0" in result.stdout


@pytest.mark.parametrize("argv, message", [
    # each allocated (or tried to allocate) tens or hundreds of GB before failing
    (["--input", "3x100000x100000"], "argument --input: the height and width must be at most "
     "1024, got '3x100000x100000'"),
    (["--input", "1000000x32x32"], "argument --input: resnet20 takes 3-channel images, got "
     "1000000x32x32"),
    (["--num-classes", "100000000"], "argument --num-classes: expected an int >= 1 and <= "
     "100000, got '100000000'"),
])
def test_sizes_that_cannot_fit_in_memory_are_one_line_errors(capsys, argv, message):
    code, err = error_of(capsys, ["summary", "resnet20", *argv])
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert message in err
