"""The coursework kit: marker parsing, the command line, and the example assignment's round trip
(make the student version; the same tests pass on the solution and fail helpfully on the stubs).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from minicnn.coursework import MarkerError, check, student_notebook, student_source
from minicnn.coursework.__main__ import main

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = REPO / "tutorials" / "assignments"
EXAMPLE = ASSIGNMENTS / "conv_and_pool"


def source(text):
    return textwrap.dedent(text).lstrip("\n")


def subprocess_env():
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def run_pytest(folder, *args):
    """Run an assignment's tests in a fresh process from its folder; (exit code, output)."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                            cwd=folder, capture_output=True, text=True, env=subprocess_env(),
                            timeout=600)
    return result.returncode, result.stdout + result.stderr


def outcome_counts(output):
    """{'passed': n, 'failed': m, ...} from pytest's last line."""
    last = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|error|skipped)", last)}


# ------------------------------------------------------------------ markers: golden cases


def test_solution_region_becomes_a_stub_at_the_marker_indentation():
    solution = source('''
        class Layer:
            def forward(self, x):
                n = len(x)
                # BEGIN SOLUTION hint: use im2col
                y = x * 2
                return y
                # END SOLUTION
        ''')
    assert student_source(solution) == source('''
        class Layer:
            def forward(self, x):
                n = len(x)
                # TODO: use im2col
                raise NotImplementedError("TODO: use im2col")
        ''')


def test_region_without_hint_gets_a_plain_todo():
    solution = "def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
    assert student_source(solution) == ('def f():\n    # TODO: your code here\n'
                                        '    raise NotImplementedError("TODO")\n')


def test_hint_with_quotes_and_backslashes_stays_a_valid_string():
    hint = r'say "hi" \ then return'
    solution = f"def f():\n    # BEGIN SOLUTION hint: {hint}\n    return 1\n    # END SOLUTION\n"
    namespace = {}
    exec(student_source(solution), namespace)
    with pytest.raises(NotImplementedError) as error:
        namespace["f"]()
    assert str(error.value) == f"TODO: {hint}"


def test_hidden_regions_and_solution_only_lines_vanish_without_a_stub():
    solution = source('''
        import numpy as np
        import answers  # SOLUTION ONLY
        # BEGIN HIDDEN
        def _check_with_answers():
            return answers.ok()
        # END HIDDEN


        def f(x):
            return x  # end of f: an ordinary comment, kept
        ''')
    assert student_source(solution) == source('''
        import numpy as np


        def f(x):
            return x  # end of f: an ordinary comment, kept
        ''')


def test_several_regions_and_everything_else_unchanged_byte_for_byte():
    solution = ("def f():\r\n    a = 1  \r\n    # BEGIN SOLUTION\r\n    return a\r\n"
                "    # END SOLUTION\r\n\r\n\r\ndef g():\r\n\t# BEGIN SOLUTION hint: h\r\n"
                "\treturn 2\r\n\t# END SOLUTION")
    assert student_source(solution) == (
        "def f():\r\n    a = 1  \r\n    # TODO: your code here\r\n"
        "    raise NotImplementedError(\"TODO\")\r\n\r\n\r\ndef g():\r\n\t# TODO: h\r\n"
        "\traise NotImplementedError(\"TODO: h\")\r\n")


def test_solution_only_file_is_dropped():
    assert student_source("# SOLUTION ONLY FILE\ndef answer():\n    return 42\n") is None


def test_notebook_code_cells_are_stubbed_and_outputs_cleared():
    notebook = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# BEGIN SOLUTION (prose)\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 3,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": ["42\n"]}],
         "source": ["x = 6\n", "# BEGIN SOLUTION hint: multiply\n", "print(x * 7)\n",
                    "# END SOLUTION\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 4, "outputs": [],
         "source": ["assert answer == 42  # SOLUTION ONLY"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    student = json.loads(student_notebook(json.dumps(notebook)))
    markdown, code = student["cells"]  # the solution-only cell is gone
    assert markdown == notebook["cells"][0]
    assert code["source"] == ["x = 6\n", "# TODO: multiply\n",
                              'raise NotImplementedError("TODO: multiply")\n']
    assert code["outputs"] == [] and code["execution_count"] is None


def test_a_broken_notebook_is_a_marker_error_naming_it():
    with pytest.raises(MarkerError, match=r"^hw.ipynb:1: not a notebook"):
        student_notebook('{"cells": [', "hw.ipynb")


# ------------------------------------------------------------------ markers: errors


BAD_MARKERS = [
    pytest.param("def f():\n    # END SOLUTION\n",
                 "f.py:2: END SOLUTION without a BEGIN SOLUTION before it", id="no-begin"),
    pytest.param("def f():\n    # BEGIN SOLUTION\n    return 1\n",
                 "f.py:2: BEGIN SOLUTION is never closed (no END SOLUTION before the end of "
                 "the file)", id="no-end"),
    pytest.param("def f():\n    # BEGIN SOLUTION\n    # BEGIN HIDDEN\n    # END HIDDEN\n"
                 "    # END SOLUTION\n",
                 "f.py:3: BEGIN HIDDEN inside the SOLUTION region opened at line 2: regions "
                 "cannot nest", id="nested"),
    pytest.param("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END HIDDEN\n",
                 "f.py:4: END HIDDEN closes the BEGIN SOLUTION of line 2", id="mismatched"),
    pytest.param("def f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION\n",
                 "f.py:4: END SOLUTION is indented 0 characters, its BEGIN SOLUTION (line 2) "
                 "4", id="indentation"),
    pytest.param("def f():\n    # begin solution\n    return 1\n    # END SOLUTION\n",
                 "f.py:2: markers are written in capitals: '# BEGIN SOLUTION'", id="lower-case"),
    pytest.param("def f():\n    # BEGIN SOLUTOIN\n    return 1\n",
                 "f.py:2: unknown marker '# BEGIN SOLUTOIN'", id="misspelt"),
    pytest.param("def f():\n    x = 1  # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n",
                 "f.py:2: '# BEGIN SOLUTION' must be on a line of its own", id="shared-line"),
    pytest.param("def f():\n    # BEGIN SOLUTION use im2col\n    return 1\n    # END SOLUTION\n",
                 "f.py:2: unexpected text 'use im2col' after '# BEGIN SOLUTION' (expected a "
                 "hint, written 'hint: ...')", id="hint-without-hint-keyword"),
    pytest.param("import answers  # SOLUTION ONLY: the grader's\n",
                 "f.py:1: '# SOLUTION ONLY' must end its line", id="text-after-line-marker"),
    pytest.param("x = 1\n# SOLUTION ONLY FILE\n",
                 "f.py:2: 'SOLUTION ONLY FILE' only counts on the first line",
                 id="late-file-marker"),
    pytest.param("# BEGIN SOLUTION\nTABLE = [1, 2]\n# END SOLUTION\n",
                 "f.py:1: this SOLUTION region is not inside a function, so its stub would "
                 "raise when the module is imported", id="module-level-stub"),
    pytest.param("class A:\n    # BEGIN SOLUTION\n    size = 3\n    # END SOLUTION\n",
                 "f.py:2: this SOLUTION region is not inside a function", id="class-level-stub"),
    pytest.param("def f():\n    return {\n        # BEGIN SOLUTION\n        'a': 1,\n"
                 "        # END SOLUTION\n    }\n",
                 "f.py:3: the student version is not valid Python here", id="cuts-a-statement"),
]


@pytest.mark.parametrize("text, expected", BAD_MARKERS)
def test_bad_markers_are_errors_naming_file_and_line(text, expected):
    with pytest.raises(MarkerError) as error:
        student_source(text, "f.py")
    assert len(error.value.problems) == 1, error.value.problems
    assert error.value.problems[0].startswith(expected), error.value.problems[0]


def test_every_problem_of_a_file_is_reported_at_once():
    text = "def f():\n    # END SOLUTION\n    # BEGIN HIDDEN\n    x = 1\n"
    with pytest.raises(MarkerError) as error:
        student_source(text, "f.py")
    assert [p.split(":")[1] for p in error.value.problems] == ["2", "3"]


# ------------------------------------------------------------------ the command line


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def assignment(tmp_path):
    src = tmp_path / "hw"
    write(src / "answer.py", "def answer():\n    # BEGIN SOLUTION hint: think\n"
                             "    return 42\n    # END SOLUTION\n")
    write(src / "test_answer.py", "from answer import answer\n\n\ndef test_answer():\n"
                                  "    assert answer() == 42\n")
    write(src / "data" / "numbers.csv", "1,2\n")
    write(src / "STAFF.md", "<!-- SOLUTION ONLY FILE -->\nThe answer is 42.\n")
    write(src / "__pycache__" / "answer.cpython-311.pyc", "stale")
    return src


def test_make_writes_the_student_version_and_refuses_to_overwrite(assignment, tmp_path,
                                                                  capsys):
    out = tmp_path / "student"
    assert main(["make", str(assignment), str(out)]) == 0
    assert "1 SOLUTION region" in capsys.readouterr().out
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "answer.py", "data/numbers.csv", "test_answer.py"]
    assert "raise NotImplementedError(\"TODO: think\")" in (out / "answer.py").read_text()
    assert (out / "test_answer.py").read_bytes() == (assignment / "test_answer.py").read_bytes()

    assert main(["make", str(assignment), str(out)]) == 1
    assert "exists; pass --force to replace it" in capsys.readouterr().err
    write(out / "stale.py", "")
    assert main(["make", str(assignment), str(out), "--force"]) == 0
    assert not (out / "stale.py").exists()


def test_make_with_bad_markers_writes_nothing(assignment, tmp_path, capsys):
    write(assignment / "more.py", "def f():\n    # BEGIN SOLUTION\n")
    out = tmp_path / "student"
    assert main(["make", str(assignment), str(out)]) == 1
    err = capsys.readouterr().err
    assert "hw/more.py:2: BEGIN SOLUTION is never closed" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert main(["check", str(assignment)]) == 1


def test_make_refuses_an_output_inside_the_source(assignment, capsys):
    assert main(["make", str(assignment), str(assignment / "student"), "--force"]) == 1
    assert "overlap" in capsys.readouterr().err
    assert (assignment / "answer.py").exists()


def test_make_a_single_file(assignment, tmp_path):
    out = tmp_path / "answer_student.py"
    assert main(["make", str(assignment / "answer.py"), str(out)]) == 0
    assert out.read_text() == ('def answer():\n    # TODO: think\n'
                               '    raise NotImplementedError("TODO: think")\n')


def test_command_line_entry_point(assignment):
    result = subprocess.run([sys.executable, "-m", "minicnn.coursework", "check",
                             str(assignment)], capture_output=True, text=True, cwd=REPO,
                            env=subprocess_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("markers OK: hw: 3 files, 1 SOLUTION region")
    assert "left out: hw/STAFF.md" in result.stdout


# ------------------------------------------------------------------ the example assignment


@pytest.mark.parametrize("folder", sorted(p for p in ASSIGNMENTS.iterdir()
                                           if p.is_dir() and p.name[0] not in "._"),
                         ids=lambda p: p.name)
def test_every_assignment_is_self_contained_and_well_marked(folder):
    for name in ("README.md", "pytest.ini", "conftest.py"):
        assert (folder / name).is_file(), f"{folder.name} has no {name}"
    check(folder)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The example's solution (copied, so no cache lands in the repository) and student version."""
    root = tmp_path_factory.mktemp("coursework")
    solution = root / "solution"
    shutil.copytree(EXAMPLE, solution,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    student = root / "student"
    assert main(["make", str(EXAMPLE), str(student)]) == 0
    return solution, student


def test_student_version_holds_stubs_and_no_solution(built):
    solution, student = built
    files = sorted(str(p.relative_to(student)) for p in student.rglob("*") if p.is_file())
    assert files == ["README.md", "conftest.py", "conv.py", "pool.py", "pytest.ini",
                     "test_conv.py", "test_pool.py"]  # STAFF.md is left out
    for name in ("README.md", "conftest.py", "pytest.ini", "test_conv.py", "test_pool.py"):
        assert (student / name).read_bytes() == (solution / name).read_bytes(), name
    code = (student / "conv.py").read_text() + (student / "pool.py").read_text()
    assert "BEGIN SOLUTION" not in code and "END SOLUTION" not in code
    assert code.count('raise NotImplementedError("TODO: ') == 4
    for solution_line in ("out[n, f, i, j] = np.sum(window * weight[f]) + bias[f]",
                          "grad_xp[n, :, top:top + KH, left:left + KW] += g * weight[f]",
                          "grad_x[n, c, top + a, left + b] += grad_out[n, c, i, j]"):
        assert solution_line not in code


def test_solution_passes_and_student_version_fails_helpfully(built):
    solution, student = built
    code, output = run_pytest(solution)
    assert code == 0, output
    passed = outcome_counts(output)
    assert set(passed) == {"passed"} and passed["passed"] >= 30, output

    code, output = run_pytest(student)
    assert code == 1, output
    assert outcome_counts(output) == {"failed": passed["passed"]}, output
    for part, function in [("Part 1 (conv2d forward)", "conv.py::conv2d_forward"),
                           ("Part 2 (conv2d backward)", "conv.py::conv2d_backward"),
                           ("Part 3 (max-pool forward)", "pool.py::max_pool2d_forward"),
                           ("Part 3 (max-pool backward)", "pool.py::max_pool2d_backward")]:
        assert f"{part} is not implemented yet: fill in {function} (line " in output
    stub_line = (student / "conv.py").read_text().splitlines().index(
        '    raise NotImplementedError("TODO: zero-pad x (np.pad), compute OH and OW, loop over '
        'n, f, i, j")') + 1
    assert f"fill in conv.py::conv2d_forward (line {stub_line})" in output
    assert "hint: zero-pad x (np.pad)" in output
    assert "= not implemented yet =" in output  # the closing list of parts to do
    for noise in ("Traceback", "raise NotImplementedError", "conftest.py", "_pytest"):
        assert noise not in output, f"{noise!r} in the student's test output:\n{output}"


def test_each_part_is_graded_on_its_own(built, tmp_path):
    """Parts 1 and 2 done (the solution's conv.py), Part 3 not: only Part 3 is reported.

    Only the examples worked by hand run (3 of conv, 1 of pool): they need no compiled kernel.
    """
    solution, student = built
    partial = tmp_path / "partial"
    shutil.copytree(student, partial)
    shutil.copy(solution / "conv.py", partial / "conv.py")
    code, output = run_pytest(partial, "-k", "by_hand")
    assert code == 1, output
    assert outcome_counts(output) == {"passed": 3, "failed": 1}, output
    assert "FAILED test_pool.py::test_forward_by_hand" in output
    assert "Part 3 (max-pool forward) is not implemented yet" in output
    assert "Part 1" not in output and "Part 2" not in output
