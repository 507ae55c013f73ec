"""Training over ranks: ``fit(..., distributed=True)`` and ``mpiexec -n K python -m minicnn
train``, launched as subprocesses; resuming with another number of ranks."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minicnn.distributed.comm import LAUNCHER_VARIABLES

from .ranks import REPO, parameters, rank_results, requires_mpi, run_on_ranks, run_ranks


@requires_mpi
def test_fit_resumes_on_another_number_of_ranks_as_if_uninterrupted(tmp_path):
    """2 epochs on 2 ranks, against 1 epoch on 2 ranks then 1 more resumed on 3 (SyncBatchNorm,
    float64): the global batches are the same, so the weights agree to 1e-10; only rank 0
    writes the checkpoint, and every rank reports the same metrics, summed over the ranks."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    run_ranks("fit", 2, straight, arguments=["2", "new"])
    run_ranks("fit", 2, split, arguments=["1", "new"])
    run_ranks("fit", 3, split, arguments=["2", "resume"])
    uninterrupted, resumed = rank_results(straight, 2), rank_results(split, 3)
    for result in resumed:
        assert int(result["ranks"]) == 3
        for key, value in parameters(uninterrupted[0]).items():
            np.testing.assert_allclose(parameters(result)[key], value, rtol=0, atol=1e-10,
                                       err_msg=key)
        np.testing.assert_allclose(result["history"], uninterrupted[0]["history"], rtol=0,
                                   atol=1e-10)
    assert uninterrupted[0]["history"].shape == (2, 4)
    np.testing.assert_array_equal(uninterrupted[0]["history"], uninterrupted[1]["history"])
    assert sorted(p.name for p in (split / "run").iterdir()) == ["checkpoint.npz"]


@requires_mpi
def test_the_train_command_under_mpiexec_writes_one_run_folder(tmp_path):
    out = tmp_path / "run"
    result = run_on_ranks(2, ["-m", "minicnn", "train", "lenet5", "--limit", "128",
                              "--epochs", "1", "--batch-size", "32", "--quiet",
                              "--out", str(out)], cwd=tmp_path)
    assert result.stdout.count("epoch 1/1") == 1, result.stdout        # rank 0 alone prints
    assert "2 ranks" in result.stdout and "global batch 32" in result.stdout
    history = json.loads((out / "history.json").read_text())
    assert len(history["rows"]) == 1 and history["rows"][0]["train_loss"] > 0
    assert (out / "checkpoint.npz").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]             # no second folder


@requires_mpi
def test_a_batch_not_divisible_by_the_ranks_is_a_one_line_error(tmp_path):
    result = run_on_ranks(2, ["-m", "minicnn", "train", "lenet5", "--limit", "64",
                              "--batch-size", "33", "--out", str(tmp_path / "run")],
                          expect_success=False, cwd=tmp_path)
    assert result.returncode != 0
    assert "argument --batch-size: 33 is the global batch" in result.stderr
    assert "Traceback" not in result.stderr


def test_distributed_outside_mpiexec_is_a_one_line_error(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))          # this checkout's minicnn
    for name in LAUNCHER_VARIABLES:                       # as if started from a shell
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-m", "minicnn", "train", "lenet5", "--distributed",
                             "--out", str(tmp_path / "run")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "argument --distributed: this process was not started by mpiexec" in result.stderr
    assert "Traceback" not in result.stderr


def test_ranks_other_than_0_keep_quiet_until_they_fail_alone(monkeypatch):
    """silence_other_ranks drops rank 1's output and keeps its errors aside;
    finish_failed_command prints them when rank 0 did not fail with it (the barrier times
    out), and nothing when every rank failed (rank 0 has said why)."""
    import io

    from minicnn.distributed import comm, training

    terminal = io.StringIO()
    monkeypatch.setattr(sys, "__stderr__", terminal)
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    monkeypatch.setattr(comm, "is_main_process", lambda: False)
    monkeypatch.setattr(comm, "rank", lambda: 1)
    training.silence_other_ranks()
    print("epoch 1/1 | train loss 0.1")
    print("python -m minicnn train: error: disk full", file=sys.stderr)
    monkeypatch.setattr(comm, "barrier", lambda timeout: None)          # all ranks failed
    training.finish_failed_command()
    assert terminal.getvalue() == ""

    def alone(timeout):
        assert timeout == training.FAILED_EXIT_WAIT
        raise comm.DistributedError("rank 1: barrier waited more than 5 s")

    monkeypatch.setattr(comm, "barrier", alone)
    training.finish_failed_command()
    assert terminal.getvalue() == "rank 1: python -m minicnn train: error: disk full\n"
