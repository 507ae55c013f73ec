"""The coursework kit: build the student version of an assignment from its full solution.

Course staff write an assignment as a working solution (code, tests, data, README) and mark
what students must not see::

    def conv2d_forward(x, weight, bias, stride, padding):
        N, C, H, W = x.shape
        # BEGIN SOLUTION hint: loop over n, f and the output positions
        ...the solution...
        # END SOLUTION

    import solution_helpers          # SOLUTION ONLY      (this line is removed)

    # BEGIN HIDDEN
    def _solution_only_helper(): ...  (removed, with no stub)
    # END HIDDEN

In the student version, each SOLUTION region becomes, at the indentation of its marker::

        # TODO: loop over n, f and the output positions
        raise NotImplementedError("TODO: loop over n, f and the output positions")

A file whose first line contains ``SOLUTION ONLY FILE`` (``# SOLUTION ONLY FILE`` in Python,
``<!-- SOLUTION ONLY FILE -->`` in Markdown) is left out. Markers are read in ``.py`` files
and in the code cells of ``.ipynb`` notebooks (whose outputs are cleared, as they would show
the solution's results); every other file is copied unchanged.

Mistakes in markers would leak a solution, so they are errors, reported with file and line:
an END without its BEGIN, a BEGIN never closed, regions inside regions, an END indented
differently from its BEGIN, a misspelt or lower-case marker, a marker that shares its line
with code, a Python stub outside any function (it would raise on import) and a student
version that is not valid Python.

Command line: ``python -m minicnn.coursework make SRC OUT [--force]`` and
``python -m minicnn.coursework check SRC``.
"""

import ast
import json
import re
import shutil
from collections import Counter
from pathlib import Path

__all__ = ["MarkerError", "student_source", "student_notebook", "check", "make"]

SOLUTION_ONLY_FILE = "SOLUTION ONLY FILE"
NEVER_COPIED = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".hypothesis"}

# A region marker: '# BEGIN SOLUTION', '# END HIDDEN', ... (case-insensitive here, so that a
# lower-case or misspelt marker is caught instead of silently leaking the solution).
_REGION = re.compile(r"#\s*(BEGIN|END)\s+([A-Za-z]+)(.*)", re.IGNORECASE)
_KINDS = ("SOLUTION", "HIDDEN")
_HINT = re.compile(r"\s+hint:\s*(.*\S)\s*$")
_LINE_ONLY = re.compile(r"#\s*SOLUTION\s+ONLY(\s+FILE)?\s*$", re.IGNORECASE)
_MENTIONS_ONLY = re.compile(r"#\s*SOLUTION\s+ONLY", re.IGNORECASE)


class MarkerError(ValueError):
    """Badly placed markers. ``problems`` lists them as ``'file:line: what is wrong'``."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _region_marker(line, where):
    """``(verb, kind, hint, problem)`` if ``line`` is a region marker, else None.

    ``problem`` describes a malformed marker (None if it is well formed); the marker still
    counts, so that one mistake is reported once, not again at its END.
    """
    match = _REGION.search(line)
    if match is None:
        return None
    verb, kind, rest = match.groups()
    if kind.upper() not in _KINDS and not (verb.isupper() and kind.isupper()):
        return None  # an ordinary comment such as '# end of the loop'
    marker = f"{verb} {kind}".upper()
    if kind.upper() not in _KINDS:
        raise MarkerError([f"{where}: unknown marker '# {verb} {kind}' (the markers are "
                           "BEGIN/END SOLUTION, BEGIN/END HIDDEN and SOLUTION ONLY)"])
    hint = _HINT.match(rest) if marker == "BEGIN SOLUTION" else None
    problem = None
    if line[:match.start()].strip():
        problem = f"{where}: '# {marker}' must be on a line of its own"
    elif not (verb.isupper() and kind.isupper()):
        problem = f"{where}: markers are written in capitals: '# {marker}'"
    elif rest.strip() and hint is None:
        expected = "a hint, written 'hint: ...'" if marker == "BEGIN SOLUTION" else "nothing"
        problem = (f"{where}: unexpected text {rest.strip()!r} after '# {marker}' "
                   f"(expected {expected})")
    return verb.upper(), kind.upper(), hint.group(1) if hint else None, problem


def _is_solution_only_line(line, where):
    match = _LINE_ONLY.search(line)
    if match is None:
        if _MENTIONS_ONLY.search(line):
            raise MarkerError([f"{where}: '# SOLUTION ONLY' must end its line"])
        return False
    if "SOLUTION ONLY" not in match.group(0):
        raise MarkerError([f"{where}: markers are written in capitals: '# SOLUTION ONLY'"])
    if match.group(1):
        raise MarkerError([f"{where}: '{SOLUTION_ONLY_FILE}' only counts on the first line "
                           "of a file (not of a notebook)"])
    return True


def _stub(indent, hint, newline):
    message = f"TODO: {hint}" if hint else "TODO"
    comment = f"TODO: {hint}" if hint else "TODO: your code here"
    return [f"{indent}# {comment}{newline}",
            f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"
            f"{newline}"]


def _transform(text, name):
    """Strip the markers of one source text.

    Returns ``(student_text, counts, origins, stubs)``: ``counts`` of 'solution', 'hidden'
    and 'line' markers; ``origins[i]``, the source line of output line ``i + 1``; ``stubs``,
    the output line numbers of the stubs' ``raise``. Raises MarkerError listing every problem.
    """
    out, origins, stubs, problems, counts = [], [], [], [], Counter()
    regions = []  # open regions, innermost last: (kind, line, indentation, hint, newline)
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        where = f"{name}:{number}"
        try:
            marker = _region_marker(line, where)
            solution_only = marker is None and _is_solution_only_line(line, where)
        except MarkerError as error:
            problems += error.problems
            continue
        if marker is None:
            if not regions and not solution_only:
                out.append(line)
                origins.append(number)
            counts["line"] += solution_only
            continue
        verb, kind, hint, problem = marker
        if problem:
            problems.append(problem)
        body = line.rstrip("\r\n")
        indent = body[:len(body) - len(body.lstrip())]
        if verb == "BEGIN":
            if regions:
                problems.append(f"{where}: BEGIN {kind} inside the {regions[-1][0]} region "
                                f"opened at line {regions[-1][1]}: regions cannot nest")
            regions.append((kind, number, indent, hint, line[len(body):] or "\n"))
            continue
        if not regions:
            problems.append(f"{where}: END {kind} without a BEGIN {kind} before it")
            continue
        open_kind, open_line, open_indent, open_hint, newline = regions.pop()
        if open_kind != kind:
            problems.append(f"{where}: END {kind} closes the BEGIN {open_kind} of line "
                            f"{open_line}")
        elif indent != open_indent:
            problems.append(f"{where}: END {kind} is indented {len(indent)} characters, its "
                            f"BEGIN {kind} (line {open_line}) {len(open_indent)}")
        elif kind == "SOLUTION" and not regions:
            out += _stub(open_indent, open_hint, newline)
            origins += [open_line, open_line]
            stubs.append(len(out))
        counts[kind.lower()] += 1
    for kind, open_line, *_ in regions:
        problems.append(f"{name}:{open_line}: BEGIN {kind} is never closed (no END {kind} "
                        "before the end of the file)")
    if problems:
        raise MarkerError(problems)
    return "".join(out), counts, origins, stubs


def _check_python(text, name, origins, stubs):
    """The student version must parse, and no stub may run when the module is imported."""
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        line = origins[min(error.lineno, len(origins)) - 1] if origins else 1
        raise MarkerError([f"{name}:{line}: the student version is not valid Python here "
                           f"({error.msg}): does a region cut a statement in two?"]) from None
    in_functions = {node.lineno for function in ast.walk(tree)
                    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
                    for node in ast.walk(function) if isinstance(node, ast.Raise)}
    outside = [origins[line - 1] for line in stubs if line not in in_functions]
    if outside:
        raise MarkerError([f"{name}:{begin}: this SOLUTION region is not inside a function, so "
                           "its stub would raise when the module is imported (use BEGIN "
                           "HIDDEN, or move the code into a function)" for begin in outside])


def _source(text, name):
    """``(student_text or None, counts)`` of a Python file (None: solution-only file)."""
    first_line = text.split("\n", 1)[0]
    if SOLUTION_ONLY_FILE in first_line:
        return None, Counter()
    student, counts, origins, stubs = _transform(text, name)
    _check_python(student, name, origins, stubs)
    return student, counts


def student_source(text, name="<string>"):
    """The student version of Python source ``text`` (None for a solution-only file).

    ``name`` is used in error messages. Raises MarkerError on badly placed markers.
    """
    return _source(text, name)[0]


def _notebook(text, name):
    """``(student_text or None, counts)`` of a Jupyter notebook (JSON text)."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise MarkerError([f"{name}:{error.lineno}: not a notebook ({error.msg})"]) from None
    cells, problems, counts = [], [], Counter()
    for index, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") == "code":
            source = cell["source"]
            source = "".join(source) if isinstance(source, list) else source
            try:
                # No Python check: cells may hold IPython magics, and a stub raising at the
                # top level of a cell is what a notebook exercise wants.
                student, cell_counts, _, _ = _transform(source, f"{name} cell {index}")
            except MarkerError as error:
                problems += error.problems
                continue
            counts += cell_counts
            if source.strip() and not student.strip():
                continue  # a solution-only cell
            cell = dict(cell, source=student.splitlines(keepends=True), outputs=[],
                        execution_count=None)
        cells.append(cell)
    if problems:
        raise MarkerError(problems)
    notebook["cells"] = cells
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", counts


def student_notebook(text, name="<notebook>"):
    """The student version of a notebook's JSON text: code cells stripped, outputs cleared."""
    return _notebook(text, name)[0]


def _is_solution_only_file(path):
    with open(path, "rb") as file:
        return SOLUTION_ONLY_FILE.encode() in file.readline(4096)


_TRANSFORMS = {".py": _source, ".ipynb": _notebook}
_COPY = object()  # in a plan: copy the file unchanged


def _files(src):
    """The files of an assignment (a folder or one file), sorted, caches left out."""
    if src.is_file():
        return [src]
    return sorted(p for p in src.rglob("*") if p.is_file() and p.suffix != ".pyc"
                  and not NEVER_COPIED.intersection(p.relative_to(src).parts))


def _plan(src):
    """What ``make`` would write: ``[(path, student text or _COPY)]``, the files left out
    and the marker counts. Raises MarkerError listing every problem."""
    writes, omitted, counts, problems = [], [], Counter(), []
    for path in _files(src):
        name = str(path.relative_to(src.parent))
        try:
            if path.suffix in _TRANSFORMS:
                with open(path, encoding="utf-8", newline="") as file:
                    text = file.read()
                student, file_counts = _TRANSFORMS[path.suffix](text, name)
                counts += file_counts
            else:
                student = None if _is_solution_only_file(path) else _COPY
        except MarkerError as error:
            problems += error.problems
            continue
        except UnicodeDecodeError:
            problems.append(f"{name}: not UTF-8 text")
            continue
        if student is None:
            omitted.append(name)
        else:
            writes.append((path, student))
    if problems:
        raise MarkerError(problems)
    return writes, omitted, counts


def _summary(src, writes, omitted, counts):
    def plural(n, word):
        return f"{n} {word}{'' if n == 1 else 's'}"
    return (f"{src.name}: {plural(len(writes), 'file')}, "
            f"{plural(counts['solution'], 'SOLUTION region')}, "
            f"{plural(counts['hidden'], 'HIDDEN region')}, "
            f"{plural(counts['line'], 'SOLUTION ONLY line')}; "
            f"left out: {', '.join(omitted) or 'nothing'}")


def check(src):
    """Validate the markers of an assignment (folder or file); returns a one-line summary.

    Raises MarkerError listing every problem, FileNotFoundError if ``src`` does not exist.
    """
    src = Path(src)
    if not src.exists():
        raise FileNotFoundError(f"SRC {str(src)!r} does not exist")
    return _summary(src, *_plan(src))


def make(src, out, force=False):
    """Write the student version of assignment ``src`` (a folder or one file) to ``out``.

    Nothing is written unless every marker is well placed. ``out`` must not exist, unless
    ``force`` (then it is replaced). Returns a one-line summary.
    """
    src, out = Path(src), Path(out)
    if not src.exists():
        raise FileNotFoundError(f"SRC {str(src)!r} does not exist")
    src_abs, out_abs = src.resolve(), out.resolve()
    if src_abs == out_abs or src_abs in out_abs.parents or out_abs in src_abs.parents:
        raise ValueError(f"OUT {str(out)!r} and SRC {str(src)!r} overlap; write the student "
                         "version somewhere else")
    if src.is_file() and out.is_dir():
        raise ValueError(f"OUT {str(out)!r} is a folder; for a single SRC file give the "
                         "student file's path")
    writes, omitted, counts = _plan(src)
    if out.exists() or out.is_symlink():
        if not force:
            raise FileExistsError(f"OUT {str(out)!r} exists; pass --force to replace it")
        if out.is_dir() and not out.is_symlink():
            shutil.rmtree(out)
        else:
            out.unlink()
    for path, student in writes:
        target = out if src.is_file() else out / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        if student is _COPY:
            shutil.copy2(path, target)
        else:
            with open(target, "w", encoding="utf-8", newline="") as file:
                file.write(student)
            shutil.copymode(path, target)
    return _summary(src, writes, omitted, counts)
