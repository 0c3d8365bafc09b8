"""MLPerf Tiny protocol firmware: the benchmark runner's commands and answers, and results equal
to TFLM's output dequantized the same way, on the host and under QEMU."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.check.mlperf_check import validate_mlperf
from tinypipe.check.reference import run_tflm
from tinypipe.cli import main
from tinypipe.compiler.graph import read_tflite
from tinypipe.device.firmware import build_project, create_project, program_path
from tinypipe.device.mlperf import expected_results


@pytest.fixture(scope="module")
def mlperf_fw(tmp_path_factory, digits_tflite):
    root = tmp_path_factory.mktemp("mlperf")
    project = root / "fw"
    create_project(digits_tflite, ["host", "mps2-an386"], project, name="digits", protocol="mlperf")
    x = np.random.default_rng(11).integers(-128, 128, (4, 8, 8, 1), dtype=np.int8)
    np.save(root / "x.npy", x)
    return project, root / "x.npy", x


def _session(project, script: str) -> list[str]:
    """Feed raw protocol text to the host build and return its answer lines."""
    build_project(project, "host")
    res = subprocess.run(
        [str(program_path(project, "host"))], input=script.encode(), capture_output=True, timeout=60
    )
    return res.stdout.decode().replace("\r\n", "\n").splitlines()


@pytest.mark.parametrize("board", ["host", pytest.param("mps2-an386", marks=pytest.mark.qemu)])
def test_results_equal_tflm_through_the_protocol(mlperf_fw, board) -> None:
    project, x_path, _ = mlperf_fw
    verdict = validate_mlperf(project, board, x_path)
    assert verdict.exact and verdict.samples == 4
    assert verdict.name == ["m-name-dut-[tinypipe]"]
    assert verdict.profile == ["m-profile-[ULPMark for tinyML Firmware V0.0.1]", "m-model-[digits]"]
    assert len(verdict.lap_us) == 4


def test_commands_answer_in_the_benchmark_format(mlperf_fw) -> None:
    project, _, x = mlperf_fw
    data = x[0].tobytes()
    hexes = "".join(f"db {data[i : i + 32].hex()}%" for i in range(0, len(data), 32))
    lines = _session(
        project, f"name%profile%db load {len(data)}%{hexes}db print%infer 2 1%results%"
    )
    assert lines[:2] == ["m-init-done", "m-ready"]
    assert "m-name-dut-[tinypipe]" in lines and f"m-[Expecting {len(data)} bytes]" in lines
    assert lines.count("m-load-done") == 1
    buffer = [ln for ln in lines if ln.startswith("m-buffer-")]
    assert "".join(ln[len("m-buffer-") :].replace("-", "") for ln in buffer) == data.hex()
    i = lines.index("m-warmup-start-1")
    assert lines[i + 1 : i + 3] == ["m-warmup-done", "m-infer-start-2"]
    assert lines[i + 3].startswith("m-lap-us-") and lines[i + 4].startswith("m-lap-us-")
    assert lines[i + 5] == "m-infer-done"
    graph = read_tflite(project / "model.tflite")
    out = graph.output_tensors[0]
    want = (
        "m-results-["
        + ",".join(
            expected_results(run_tflm(graph.model_bytes, x[:1])[0], out.scale, out.zero_point)
        )
        + "]"
    )
    assert lines[i + 6] == want and lines[-2] == want  # `results` repeats the last vector
    # every command ends with m-ready: boot + 7 commands (db HEX twice for 64 bytes)
    assert lines.count("m-ready") == 1 + 6 + len(data) // 32


@pytest.mark.parametrize(
    "script, error",
    [
        ("bogus%", "e-[Unknown command: bogus]"),
        ("db%", "e-[Command 'db' requires a subcommand]"),
        ("db load 0%", "e-[Command 'db load' must be >0 bytes]"),
        ("db load 7%", "e-[The model's input is 64 bytes]"),
        ("db load 64%db 0g%", "e-[Invalid hex digit]"),
        ("db load 64%db 123%", "e-[Insufficent number of hex digits]"),
        ("infer 1 0%", "e-[Load the input first: db load N, then db HEX]"),
        (
            "db load 64%" + "db " + "00" * 32 + "%" + "db " + "00" * 32 + "%infer 0%",
            "e-[Inference iterations must be >0]",
        ),
        (
            "db load 64%" + "db " + "00" * 32 + "%" + "db " + "00" * 32 + "%infer 1 -1%",
            "e-[Inference warmup must be >=0]",
        ),
    ],
)
def test_bad_commands_get_an_error_line_and_the_prompt(mlperf_fw, script, error) -> None:
    lines = _session(mlperf_fw[0], script)
    assert error in lines
    assert lines[-1] == "m-ready"


def test_a_long_command_is_cut_not_overflowed(mlperf_fw) -> None:
    lines = _session(mlperf_fw[0], "x" * 500 + "%name%")
    assert "e-[Unknown command: " + "x" * 80 + "]" in lines and "m-name-dut-[tinypipe]" in lines


def test_mlperf_needs_mlperf_firmware(tmp_path, digits_tflite) -> None:
    create_project(digits_tflite, ["host"], tmp_path / "fw", name="digits")
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8, 1), np.int8))
    res = CliRunner().invoke(
        main,
        ["mlperf", str(tmp_path / "fw"), "--board", "host", "--inputs", str(tmp_path / "x.npy")],
    )
    assert res.exit_code == 2 and "--protocol mlperf" in res.output
