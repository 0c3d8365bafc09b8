"""`tinypipe search` on Ray Tune: a small search on digits for the micro:bit (16 KB RAM), run as
a user runs it (the CLI in a child process), on an embedded local Ray and on a Ray head started
apart with `ray start --head`. Every reported figure is measured again from the trial's files,
every rejected candidate is compiled and refused by the firmware's fit check, and a resumed
search runs only the trials that had not finished.

Four candidates, two epochs: tiny_cnn at 8x8 (plain and with half its channels pruned) fits;
tiny_cnn at 128x128 needs more than 16 KB of RAM even when pruned (its input alone fills 16 KB;
at 64x64 patch-based inference now makes it fit), so the fit check rejects both before training.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tinypipe.device.firmware import create_project
from tinypipe.errors import DoesNotFitError
from tinypipe.model.datasets import load_dataset
from tinypipe.model.optimize import measure
from tinypipe.pipeline.pareto import dominates
from tinypipe.pipeline.search import plan_search
from tinypipe.pipeline.search_space import Candidate
from tinypipe.pipeline.search_trial import trial_data

pytestmark = pytest.mark.slow

CONFIG = """
[project]
name = "digits_search"
output = "out"

[data]
dataset = "digits"

[search]
board = "microbit"
trials = {trials}
epochs = 2
grace_epochs = 1
finetune_epochs = 1
validate_samples = 4

[search.models.tiny_cnn]
input_size = [8, 128]

[search.optimize]
prune = [0.0, 0.5]
"""
TINYPIPE = [sys.executable, "-m", "tinypipe.cli"]


def _config(folder: Path, trials: int) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "tinypipe.toml"
    path.write_text(CONFIG.format(trials=trials))
    return path


def _env(**extra: str) -> dict:
    return {**os.environ, "PLATFORMIO_DISABLE_UPGRADE_CHECK": "true", **extra}


def _search(cfg: Path, *args: str, env: dict | None = None, check: bool = True):
    res = subprocess.run([*TINYPIPE, "search", str(cfg), *args], capture_output=True, text=True,
                         env=env or _env(), timeout=900)  # fmt: skip
    if check:
        assert res.returncode == 0, res.stdout + res.stderr
    return res


def _started(log: str) -> list[str]:
    return [line.split()[1] for line in log.splitlines() if line.strip().startswith("start ")]


def _overlapping(trials: list[dict]) -> bool:
    """Whether two trials ran at the same time in different worker processes."""
    spans = [(t["worker"]["pid"], t["worker"]["started"], t["worker"]["reported"]) for t in trials]
    return any(
        p1 != p2 and s1 < e2 and s2 < e1
        for i, (p1, s1, e1) in enumerate(spans)
        for p2, s2, e2 in spans[i + 1 :]
    )


def check_results(out: Path, tmp: Path) -> dict:
    """The search's figures against a fresh measurement of each trial's files."""
    summary = json.loads((out / "search.json").read_text())
    trials = {t["id"]: t for t in summary["trials"]}
    assert summary["planned"] == len(trials) == 4
    data = load_dataset("digits")
    measured = [t for t in trials.values() if t["status"] == "measured"]
    rejected = [t for t in trials.values() if t["status"] == "rejected"]
    stopped = [t for t in trials.values() if t["status"] == "stopped"]
    # ASHA may stop the later of the two 8x8 trials if it trails the first after one epoch.
    assert len(rejected) == 2 and len(measured) + len(stopped) == 2 and measured
    for t in stopped:
        assert t["epochs"] == 1 and "ASHA" in t["reason"] and t["fit_check"]["fits"]
    for t in measured:
        folder = out / "trials" / t["id"]
        assert json.loads((folder / "report.json").read_text()) == {
            k: v for k, v in t.items() if k not in ("feasible", "verdict")
        }
        tflite = (folder / "model.tflite").read_bytes()
        again = measure(tflite, trial_data(Candidate.from_dict(t["candidate"]), data), None,
                        ["microbit"], samples=t["board"]["samples"])  # fmt: skip
        for key in (
            "int8_accuracy",
            "macs",
            "arena_bytes",
            "compiled_weight_bytes",
            "tflite_bytes",
        ):
            assert again[key] == t[key], (t["id"], key)
        assert again["boards"]["microbit"] == t["board"]
        assert t["board"]["bit_exact"] and t["board"]["fits"] and t["board"]["instructions"] > 0
        # The fit check judged the untrained model; its estimate bounds the trained firmware.
        assert t["board"]["flash_used"] <= t["fit_check"]["flash_needed"]
        assert t["board"]["ram_used"] <= t["fit_check"]["ram_needed"]
    for t in rejected:
        assert t["candidate"]["input_size"] == 128 and t["epochs"] == 0
        assert "RAM" in t["reason"] and t["fit_check"]["ram_needed"] > 16 * 1024
        model = out / "trials" / t["id"] / "fit_check.tflite"
        with pytest.raises(DoesNotFitError, match="microbit RAM"):
            create_project(model, ["microbit"], tmp / f"fw-{t['id']}")
        assert not (tmp / f"fw-{t['id']}").exists()
    # Pareto front: no front trial is beaten by another working one, every other one is.
    costs = {
        t["id"]: (-t["int8_accuracy"], t["board"]["instructions"], t["board"]["flash_used"],
                  t["board"]["ram_used"])
        for t in measured  # all fit, all bit-exact (checked above)
    }  # fmt: skip
    for i, c in costs.items():
        beaten = any(dominates(other, c) for other in costs.values())
        assert beaten == (i not in summary["pareto"]), i
    assert all(t["feasible"] for t in measured)  # no instruction budget here
    best = max(costs, key=lambda i: -costs[i][0])
    assert summary["best"] == best
    assert (out / "best" / "model.tflite").read_bytes() == (
        out / "trials" / best / "model.tflite"
    ).read_bytes()
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert best in (out / "search.md").read_text()
    return summary


def test_search_local_ray_resumes(tmp_path):
    cfg = _config(tmp_path / "project", trials=2)
    out = tmp_path / "project" / "out" / "search"
    first = _search(cfg)
    assert "embedded local Ray (" in first.stdout
    done_first = {p.parent.name: p.read_bytes() for p in (out / "trials").glob("*/report.json")}
    assert len(done_first) == 2
    assert _overlapping([json.loads(b) for b in done_first.values()]), (
        "trials did not run concurrently"
    )

    # The whole space now: finished trials stay, the search needs --resume to go on.
    _config(tmp_path / "project", trials=0)
    refused = _search(cfg, check=False)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    second = _search(cfg, "--resume")
    plan = plan_search(cfg)
    assert sorted(_started(second.stdout)) == sorted(set(plan.trials) - set(done_first))
    assert "2 finished earlier" in second.stdout
    for trial_id, blob in done_first.items():
        assert (out / "trials" / trial_id / "report.json").read_bytes() == blob
    check_results(out, tmp_path)

    # Nothing left to run: a third call only rewrites the summary.
    third = _search(cfg, "--resume")
    assert _started(third.stdout) == [] and "Running" not in third.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_head():
    """A Ray head in its own process group, with a token as a secured cluster has; stopped by
    its pid (SIGTERM makes `ray start --block` shut down the processes it started)."""
    ray_bin = Path(sys.executable).with_name("ray")
    temp = tempfile.mkdtemp(prefix="tpray")  # short: Ray's socket paths must stay < 108 bytes
    env = _env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))
    port = _free_port()
    head = subprocess.Popen(
        [str(ray_bin), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
         "--port", str(port), "--ray-client-server-port", str(_free_port()), "--num-cpus", "2",
         "--include-dashboard=false", "--disable-usage-stats", "--temp-dir", temp],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not list(Path(temp).glob("session_*/logs/raylet.out")):
            assert head.poll() is None, head.stderr.read()
            assert time.monotonic() < deadline, "the Ray head did not start"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env, Path(temp)
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        shutil.rmtree(temp, ignore_errors=True)


def test_search_on_ray_cluster(tmp_path, ray_head):
    address, env, temp = ray_head
    cfg = _config(tmp_path / "project", trials=0)
    res = _search(cfg, "--address", address, env=env)
    assert f"Ray cluster at {address} (2 CPUs" in res.stdout
    out = tmp_path / "project" / "out" / "search"
    summary = check_results(out, tmp_path)
    assert summary["last_run"]["address"] == address
    # The trials ran in the head's worker processes (Ray names their logs after the pid).
    logs = " ".join(p.name for p in temp.glob("session_*/logs/worker-*"))
    for t in summary["trials"]:
        assert f"-{t['worker']['pid']}." in logs, t["worker"]
    assert _overlapping(summary["trials"])
