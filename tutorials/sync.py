"""Write each tutorial's notebook from its script: ``NN_name.py`` -> ``NN_name.ipynb``.

A tutorial's source of truth is the script, in jupytext's "percent" format: ``# %%`` starts a
code cell and ``# %% [markdown]`` a markdown cell (its lines are comments). It reads well in a
diff and runs as a plain script. Edit the script, then run::

    python tutorials/sync.py            # rewrite every notebook from its script
    python tutorials/sync.py --check    # only report notebooks that are out of date; exit 1 if any

The notebooks are written without outputs (run them to see the figures). Each cell's id is
taken from a hash of its content, so re-running this script changes nothing unless a cell
changed. ``tests/tutorials`` checks that every notebook matches its script and runs top to
bottom.

Adding a tutorial: write ``tutorials/NN_short_name.py`` (two digits, then a name) starting
with a ``# %% [markdown]`` title cell; check its claims with ``assert``; use the built-in data
and keep it well under a minute; run it (``python tutorials/NN_short_name.py`` runs it as a
script), then this file, and commit both files. The tests find it by its name.
"""

import argparse
import hashlib
import sys
from pathlib import Path

import jupytext
import nbformat

TUTORIALS = Path(__file__).resolve().parent
PATTERN = "[0-9][0-9]_*"          # 01_autograd.py, 02_convolution.py, ...
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def tutorial_scripts(folder=TUTORIALS):
    """The tutorial scripts of ``folder``, in order."""
    return sorted(folder.glob(PATTERN + ".py"))


def notebook_from_script(script):
    """The notebook (no outputs) whose cells are those of ``script``."""
    notebook = jupytext.read(script, fmt="py:percent")
    notebook.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    seen = set()
    for cell in notebook.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:12]
        while digest in seen:  # two identical cells
            digest = hashlib.sha1(digest.encode()).hexdigest()[:12]
        seen.add(digest)
        cell.id = digest
        cell.metadata = {}
    return notebook


def notebook_text(script):
    return nbformat.writes(notebook_from_script(script), version=4) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; list the notebooks that differ from their scripts")
    args = parser.parse_args(argv)
    stale = []
    for script in tutorial_scripts():
        notebook = script.with_suffix(".ipynb")
        text = notebook_text(script)
        if notebook.exists() and notebook.read_text(encoding="utf-8") == text:
            continue
        stale.append(notebook)
        if not args.check:
            notebook.write_text(text, encoding="utf-8")
            print(f"wrote {notebook.relative_to(TUTORIALS.parent)}")
    orphans = [nb for nb in sorted(TUTORIALS.glob(PATTERN + ".ipynb"))
               if not nb.with_suffix(".py").exists()]
    for notebook in orphans:
        print(f"{notebook.relative_to(TUTORIALS.parent)} has no script "
              f"{notebook.with_suffix('.py').name}: write the script or delete the notebook")
    if args.check:
        for notebook in stale:
            print(f"{notebook.relative_to(TUTORIALS.parent)} is out of date: "
                  "run python tutorials/sync.py")
        return 1 if stale or orphans else 0
    return 1 if orphans else 0


if __name__ == "__main__":
    sys.exit(main())
