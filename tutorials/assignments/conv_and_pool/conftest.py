"""pytest setup for this assignment: a part not written yet fails with one clear line.

In the student version, each function to write raises ``NotImplementedError("TODO: ...")``
(``python -m minicnn.coursework make`` puts it there). A test that runs into one reports

    Part 1 (conv2d forward) is not implemented yet: fill in conv.py::conv2d_forward (line 52)
      hint: zero-pad x (np.pad), compute OH and OW, loop over n, f, i, j

instead of a traceback, and the end of the run lists the parts still to do. Any other
error (a wrong result, a failed gradient check) is reported by pytest as usual.

Course staff: copy this file into a new assignment and name its parts in PARTS.
"""

import pytest

# The function to write -> the part of the assignment it belongs to.
PARTS = {
    "conv2d_forward": "Part 1 (conv2d forward)",
    "conv2d_backward": "Part 2 (conv2d backward)",
    "max_pool2d_forward": "Part 3 (max-pool forward)",
    "max_pool2d_backward": "Part 3 (max-pool backward)",
}

_not_implemented = {}  # message -> how many tests it failed


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    error = call.excinfo
    if not (report.failed and error is not None and error.errisinstance(NotImplementedError)
            and str(error.value).startswith("TODO")):
        return
    stub = error.traceback[-1]  # where the NotImplementedError was raised
    where = f"{stub.path.name}::{stub.name}"
    message = (f"{PARTS.get(stub.name, where)} is not implemented yet: fill in {where} "
               f"(line {stub.lineno + 1})")
    _not_implemented[message] = _not_implemented.get(message, 0) + 1
    hint = str(error.value).removeprefix("TODO").lstrip(": ")
    report.longrepr = message + (f"\n  hint: {hint}" if hint else "")


def pytest_terminal_summary(terminalreporter):
    if _not_implemented:
        terminalreporter.section("not implemented yet")
        for message, tests in _not_implemented.items():
            terminalreporter.line(f"{message}: {tests} test{'s' if tests > 1 else ''}")
