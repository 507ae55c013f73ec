"""The tutorials: each notebook matches its script, and each runs top to bottom.

A tutorial is a jupytext "percent" script ``tutorials/NN_name.py`` (the source of truth) and the
notebook ``tutorials/NN_name.ipynb`` that ``python tutorials/sync.py`` writes from it. The fast
tests check the pairing and that every script compiles; the slow ones execute every notebook
in a fresh Jupyter kernel (in a temporary folder, with the ``Agg`` matplotlib backend and one
data cache for the whole session, so the built-in digits are generated once), so that no
tutorial can rot: each checks its own claims with asserts.
"""

import os
import time
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

REPO = Path(__file__).resolve().parents[2]
TUTORIALS = REPO / "tutorials"
SCRIPTS = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT = 600  # seconds; a tutorial takes well under a minute on a quiet machine


def cells_of_script(script):
    return [(cell.cell_type, cell.source) for cell in jupytext.read(script, fmt="py:percent").cells]


def cells_of_notebook(notebook):
    return [(cell.cell_type, cell.source) for cell in nbformat.read(notebook, as_version=4).cells]


def test_there_are_tutorials():
    assert SCRIPTS, f"no tutorial scripts NN_name.py in {TUTORIALS}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_compiles(script):
    compile(script.read_text(encoding="utf-8"), str(script), "exec")


def test_every_script_has_a_notebook_and_every_notebook_a_script():
    scripts, notebooks = {p.stem for p in SCRIPTS}, {p.stem for p in NOTEBOOKS}
    assert not scripts - notebooks, (f"scripts without a notebook: {sorted(scripts - notebooks)}; "
                                     "run python tutorials/sync.py")
    assert not notebooks - scripts, (f"notebooks without a script: {sorted(notebooks - scripts)}; "
                                     "the .py script is the source of truth")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_notebook_matches_script(script):
    notebook = script.with_suffix(".ipynb")
    if not notebook.exists():
        pytest.fail(f"{notebook.name} is missing; run python tutorials/sync.py")
    expected, actual = cells_of_script(script), cells_of_notebook(notebook)
    for index, (want, got) in enumerate(zip(expected, actual)):
        assert got == want, (f"{notebook.name} cell {index} differs from {script.name}; "
                             f"run python tutorials/sync.py\nscript:   {want!r}\nnotebook: {got!r}")
    assert len(actual) == len(expected), (f"{notebook.name} has {len(actual)} cells, "
                                          f"{script.name} {len(expected)}; run python tutorials/sync.py")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(notebook):
    with_outputs = [i for i, cell in enumerate(nbformat.read(notebook, as_version=4).cells)
                    if cell.cell_type == "code" and (cell.outputs or cell.execution_count)]
    assert not with_outputs, (f"{notebook.name}: cells {with_outputs} hold outputs; "
                              "run python tutorials/sync.py")


@pytest.fixture(scope="session")
def kernel_environment(tmp_path_factory):
    """Environment of the notebook kernels: one data cache for the session, no GUI, this
    checkout importable."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINICNN_CACHE", str(tmp_path_factory.mktemp("minicnn-cache")))
        patch.setenv("MPLBACKEND", "Agg")
        patch.setenv("PYTHONPATH", os.pathsep.join(
            [str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        yield


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(notebook, kernel_environment, tmp_path):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on failure
    print(f"{notebook.name} ran in {time.perf_counter() - start:.1f} s")
