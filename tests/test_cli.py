"""``python -m minicnn gradcheck``: the table, --filter, exit codes, one-line errors."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from minicnn.__main__ import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = "op | inputs | max relative error | pass"


def _rows(text):
    """The table's data rows, split into cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if " | ".join(
        cell.strip() for cell in line.split("|")) == HEADER) + 2  # header, rule
    rows = []
    for line in lines[start:]:
        if "|" not in line:
            break
        rows.append([cell.strip() for cell in line.split("|")])
    return rows


def test_the_core_ops_table_passes(capsys):
    assert main(["gradcheck", "--filter", "autograd_core."]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    names = [r[0] for r in rows]
    for op in ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs",
               "maximum", "minimum", "where", "clip", "relu", "leaky_relu", "sigmoid", "tanh",
               "softmax", "log_softmax", "sum", "mean", "max", "matmul", "linear",
               "reshape", "permute", "transpose", "flatten", "getitem", "cat", "stack", "pad"]:
        assert any(n.startswith(f"autograd_core: {op}") for n in names), op
    for name, inputs, error, passed in rows:
        assert passed == "yes", name
        assert int(inputs) >= 1
        assert float(error) <= 1e-3
    assert f"{len(rows)} of {len(rows)} ops pass" in out


def test_filter_selects_rows(capsys):
    assert main(["gradcheck", "--filter", "autograd_core.matmul"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [r[0] for r in rows] == ["autograd_core: matmul (batched)",
                                    "autograd_core: matmul (vector)",
                                    "autograd_core: matmul (vector @ vector)"]


def test_a_failing_op_gives_a_no_row_its_report_and_exit_code_1(capsys, monkeypatch):
    from minicnn.ops import elementwise

    monkeypatch.setattr(elementwise.Exp, "backward", staticmethod(lambda ctx, grad: grad))
    assert main(["gradcheck", "--filter", "autograd_core.exp"]) == 1
    out = capsys.readouterr().out
    assert _rows(out)[0][0] == "autograd_core: exp" and _rows(out)[0][3] == "NO"
    assert "1 of 2 ops pass" in out and "Gradient check failed for input 0" in out  # exp2 passes


def test_a_crashing_op_is_a_failing_row(capsys, monkeypatch):
    from minicnn.ops import elementwise

    def broken(ctx, grad):
        raise IndexError("a bug in backward")

    monkeypatch.setattr(elementwise.Sqrt, "backward", staticmethod(broken))
    assert main(["gradcheck", "--filter", "autograd_core.sqrt"]) == 1
    out = capsys.readouterr().out
    assert _rows(out)[0][3] == "NO" and "IndexError: a bug in backward" in out


@pytest.mark.parametrize("argv, message", [
    (["gradcheck", "--filter", "no-such-op"], "no op matches --filter 'no-such-op'"),
    (["gradcheck", "--seed", "x"], "argument --seed: expected an int >= 0, got 'x'"),
    (["gradcheck", "--seed", "-1"], "argument --seed: expected an int >= 0, got '-1'"),
    (["gradcheck", "--bogus"], "unrecognized arguments: --bogus"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: command"),
])
def test_bad_arguments_give_one_line_and_exit_code_2(argv, message, capsys):
    try:
        code = main(argv)  # an error found after parsing is returned...
    except SystemExit as e:  # ...one found by argparse exits
        code = e.code
    assert code == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert captured.out == ""


def test_runs_as_a_module_in_a_fresh_interpreter():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "minicnn", "gradcheck", "--filter",
                           "autograd_core.s"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)  # finds the header
    assert rows and all(r[3] == "yes" for r in rows)
    bad = subprocess.run([sys.executable, "-m", "minicnn", "gradcheck", "--seed", "x"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_bench_suites_name_scripts_that_exist():
    from minicnn.__main__ import BENCHMARKS
    root = pathlib.Path(__file__).resolve().parents[1]
    for script in BENCHMARKS.values():
        assert (root / "benchmarks" / script).is_file(), script


@pytest.mark.parametrize("suite", ["ops", "train", "models", "transfer"])
def test_bench_suite_starts_through_the_cli(suite):
    # --help parses after every import of the script, its sibling benchmarks included
    done = subprocess.run([sys.executable, "-m", "minicnn", "bench", suite, "--help"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")


def test_bench_unknown_suite_is_a_one_line_error(capsys):
    from minicnn.__main__ import main
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "nope"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nope'" in err and "Traceback" not in err and len(err.splitlines()) == 1


def _numba_threads():
    import numba
    return numba.config.NUMBA_NUM_THREADS


@pytest.mark.parametrize("suite, options, message", [
    ("models", ["nonet"], "argument MODEL: unknown model 'nonet'; known models: alexnet, "),
    ("models", ["lenet5", "--repeats", "0"], "argument --repeats: expected an int >= 1, got '0'"),
    ("transfer", ["--images", "-5"],
     "argument --images: expected an int >= 1 and <= 50000, got '-5'"),
    ("transfer", ["--images", "1000000000"],
     "argument --images: expected an int >= 1 and <= 50000, got '1000000000'"),
    ("transfer", ["--epochs", "0"], "argument --epochs: expected an int >= 1, got '0'"),
    ("ops", ["--repeats", "-1"], "argument --repeats: expected an int >= 1, got '-1'"),
    ("ops", ["--repeats", "0"], "argument --repeats: expected an int >= 1, got '0'"),
    ("ops", ["--repeats", "2.5"], "argument --repeats: expected an int >= 1, got '2.5'"),
    ("ops", ["--only", "convolution"],
     "argument --only: invalid choice: 'convolution' (choose from 'conv', 'norm', 'pool')"),
    ("ops", ["--bogus"], "unrecognized arguments: --bogus"),
    ("train", ["--repeats", "x"], "argument --repeats: expected an int >= 1, got 'x'"),
    ("train", ["--threads", "0"], "argument --threads: expected an int >= 1 and <= "),
    ("train", ["--threads", "-1"], "argument --threads: expected an int >= 1 and <= "),
    ("train", ["--threads", "too-many"], "argument --threads: expected an int >= 1 and <= "),
    ("train", ["--only", "vgg"],
     "argument --only: invalid choice: 'vgg' (choose from 'lenet5', 'mobilenet', 'resnet20')"),
])
def test_bench_bad_options_are_one_line_errors_before_any_timing(suite, options, message,
                                                                 capsys, monkeypatch):
    # Before: tracebacks (unknown model, --images -5, --threads 0), a table of NaN
    # (--repeats 0 or -1), or argparse's usage line above the error.
    if options[-1] == "too-many":
        options = options[:-1] + [str(_numba_threads() + 1)]
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # the bench command replaces both
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", suite, *options])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing measured, not even the BLAS line
    err = captured.err
    assert err.startswith(f"bench_{suite}.py: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err and "usage:" not in err


@pytest.mark.parametrize("command", [
    [os.path.join("benchmarks", "bench_transfer.py"), "--images", "-5"],
    ["-m", "minicnn", "bench", "models", "lenet5", "nonet"],
])
def test_bench_bad_options_in_a_fresh_interpreter(command):
    done = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and ": error: argument " in done.stderr
    assert "Traceback" not in done.stderr and "usage:" not in done.stderr


def _benchmark_module(name, monkeypatch):
    """A module of benchmarks/, imported as the scripts import each other."""
    import importlib
    monkeypatch.setattr(sys, "path", [os.path.join(ROOT, "benchmarks"), *sys.path])
    return importlib.import_module(name)


def test_ctrl_c_in_a_benchmark_script_is_one_line_and_exit_code_130(capsys, monkeypatch):
    arguments = _benchmark_module("arguments", monkeypatch)
    monkeypatch.setattr(sys, "argv", [os.path.join(ROOT, "benchmarks", "bench_ops.py")])

    def interrupted():
        raise KeyboardInterrupt
    with pytest.raises(SystemExit) as exit_info:
        arguments.run(interrupted)
    assert exit_info.value.code == 130
    assert capsys.readouterr().err == "bench_ops.py: interrupted\n"


def test_bench_models_times_each_model_at_its_own_input_size(monkeypatch):
    # resnet20 was timed on 3x224x224 images, not the 3x32x32 CIFAR images it is built for
    bench_models = _benchmark_module("bench_models", monkeypatch)
    shape, seconds = bench_models.forward_time("resnet20", repeats=1)
    assert shape == (3, 32, 32) and seconds > 0


class _InterruptingImport:
    """A meta path finder: importing ``name`` raises KeyboardInterrupt, as Ctrl-C would."""

    def __init__(self, name):
        self.name = name

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.name:
            raise KeyboardInterrupt
        return None


def _main_or_fail(argv):
    """main(argv), failing the test (not the whole session) if KeyboardInterrupt escapes."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main()")


@pytest.mark.parametrize("module", ["minicnn.train.command", "minicnn.opchecks"])
def test_ctrl_c_during_imports_is_one_line_and_exit_code_130(module, capsys, monkeypatch):
    """The console script and python -m minicnn both call main(); the heavy imports happen
    inside it, so Ctrl-C there prints one line instead of a traceback."""
    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptingImport(module)] + sys.meta_path)
    assert _main_or_fail(["gradcheck", "--filter", "autograd_core.exp"]) == 130
    captured = capsys.readouterr()
    assert captured.err.endswith(": interrupted\n") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_ctrl_c_while_the_first_data_is_generated_is_one_line(tmp_path, capsys, monkeypatch):
    from minicnn.train import command

    def interrupted(spec, train, limit):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "_load_split", interrupted)
    assert _main_or_fail(["train", "lenet5", "--quiet", "--out", str(tmp_path / "r")]) == 130
    err = capsys.readouterr().err
    assert err == "python -m minicnn train: interrupted\n"


def test_sigint_during_the_first_data_generation_in_a_fresh_interpreter(tmp_path):
    """A real Ctrl-C (SIGINT) once the data starts loading: generating the built-in digits
    the first time takes seconds, so the signal lands in it (or, on a very fast machine, in
    the first epoch); either way one line, exit code 130, no traceback."""
    env = dict(os.environ, MINICNN_CACHE=str(tmp_path / "cache"), PYTHONUNBUFFERED="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen([sys.executable, "-m", "minicnn", "train", "lenet5", "--quiet",
                                "--out", str(tmp_path / "run")], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("loading the data"), line
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert err.startswith("python -m minicnn train: interrupted") and err.count("\n") == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize("delay", [0.0, 0.1, 0.2])
def test_sigint_while_the_package_itself_imports(tmp_path, delay):
    """Ctrl-C before main() exists: ``python -m minicnn`` imports the package (numba and
    all) first. Whenever the signal lands after minicnn's first module was imported, one
    line and exit code 130 (or, if the command already finished, 0), never a traceback.
    (``-X importtime`` reports each import as it completes: the signal is sent only once
    Python's own start-up is over, which on a loaded machine takes a while.)"""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "minicnn",
                                "summary", "lenet5"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if line.rstrip().endswith("minicnn._startup"):
                break
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    err = "".join(line + "\n" for line in err.splitlines()
                  if not line.startswith("import time:"))
    assert "Traceback" not in err, err
    if process.returncode != 0:
        # 130, or death by SIGINT (which a shell also reports as 130): CPython ends that way
        # when the KeyboardInterrupt passed through an eval() (namedtuple, Numba's
        # templates) on its way to main's handler, even though main caught it.
        assert process.returncode in (130, -signal.SIGINT), (process.returncode, err)
        assert err.endswith("interrupted\n") and err.count("\n") == 1, err


def test_importing_minicnn_as_a_library_leaves_the_sigint_handler_alone():
    code = ("import signal, minicnn; "
            "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler")
    subprocess.run([sys.executable, "-c", code], check=True)
