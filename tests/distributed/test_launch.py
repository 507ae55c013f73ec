"""The mpiexec command line and the check for an MPI installation."""

import shutil

import pytest

from minicnn.distributed import launch


def test_missing_pieces_are_named_with_the_install_command(monkeypatch):
    monkeypatch.setattr(launch.shutil, "which", lambda name: None)
    reason = launch.mpi_missing_reason()
    assert "mpiexec not installed" in reason and "pip install 'minicnn[distributed]'" in reason
    with pytest.raises(FileNotFoundError, match="mpiexec not installed"):
        launch.mpiexec_command(2, ["python", "x.py"])


@pytest.mark.skipif(shutil.which("mpiexec") is None, reason="mpiexec is not installed")
def test_the_command_runs_k_copies_of_the_program_with_open_mpis_flags(monkeypatch):
    monkeypatch.setattr(launch, "_is_open_mpi", lambda mpiexec: True)
    monkeypatch.setattr(launch.os, "geteuid", lambda: 0)
    command = launch.mpiexec_command(3, ["python", "x.py", "--flag"])
    assert command[-5:] == ["-n", "3", "python", "x.py", "--flag"]
    assert "--oversubscribe" in command and "--allow-run-as-root" in command
    monkeypatch.setattr(launch, "_is_open_mpi", lambda mpiexec: False)    # e.g. MPICH
    assert launch.mpiexec_command(2, ["python", "x.py"])[1:] == ["-n", "2", "python", "x.py"]
