"""`tinypipe npu`: Vela's Ethos-U estimate, checked against a direct Vela run of the same model."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinypipe.cli import main
from tinypipe.device import npu
from tinypipe.errors import TinypipeError


def _direct_vela(model: Path, out: Path, accelerator: str, system: str, memory: str) -> dict:
    """Vela's own console entry point, run by hand as a user would, and its summary CSV."""
    args = [
        str(model),
        "--accelerator-config",
        accelerator,
        "--config",
        "Arm/vela.ini",
        "--system-config",
        system,
        "--memory-mode",
        memory,
        "--output-dir",
        str(out),
    ]
    code = "import sys; from ethosu.vela.vela import main; sys.exit(main())"
    subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)
    (summary,) = out.glob("*_summary_*.csv")
    return next(csv.DictReader(summary.open()))


@pytest.mark.parametrize("accelerator", ["ethos-u55-128", "ethos-u65-256"])
def test_estimate_matches_a_direct_vela_run(digits_tflite, tmp_path, accelerator) -> None:
    system, memory = npu.ACCELERATORS[accelerator]
    row = _direct_vela(digits_tflite, tmp_path / "vela", accelerator, system, memory)
    est = npu.estimate_npu(digits_tflite, accelerator)
    assert est.cycles_total == int(float(row["cycles_total"]))
    assert est.cycles_npu == int(float(row["cycles_npu"]))
    assert est.macs == int(float(row["nn_macs"]))
    assert est.clock_hz == float(row["core_clock"])
    assert est.time_ms == pytest.approx(float(row["inference_time"]) * 1e3, rel=1e-3)
    assert est.sram_bytes == round(float(row["sram_memory_used"]) * 1024)
    assert est.dram_bytes == round(float(row["dram_memory_used"]) * 1024)
    flash = float(row["off_chip_flash_memory_used"]) + float(row["on_chip_flash_memory_used"])
    assert est.flash_bytes == pytest.approx(flash * 1024, abs=1)
    assert est.cpu_ops == 0 and est.npu_ops > 0 and est.cpu_fallback == []


def test_ops_left_on_the_cpu_are_named_with_vela_reason(float_tflite) -> None:
    est = npu.estimate_npu(float_tflite, "ethos-u55-64")
    assert est.cpu_ops == 3 and len(est.cpu_fallback) == 3
    assert {f.op for f in est.cpu_fallback} == {"FULLY_CONNECTED", "RELU"}
    assert all("Float32" in f.reason for f in est.cpu_fallback)


def test_cli_json_and_side_by_side(digits_tflite, tmp_path) -> None:
    out = tmp_path / "npu.json"
    res = CliRunner().invoke(main, ["npu", str(digits_tflite), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Vela 5" in res.output or "Vela " in res.output
    data = json.loads(out.read_text())
    est = npu.estimate_npu(digits_tflite, "ethos-u55-128")
    assert data["npu"]["cycles_total"] == est.cycles_total
    assert "cortex_m" not in data


@pytest.mark.qemu
def test_side_by_side_with_the_m4(digits_tflite, tmp_path) -> None:
    from tinypipe.pipeline.npu_compare import compare_npu, side_by_side

    result = compare_npu(digits_tflite, "ethos-u55-128", "mps2-an386")
    cpu = result["cortex_m"]
    assert cpu["bit_exact"] and cpu["instructions"] > 10_000
    assert cpu["time_ms"] == pytest.approx(cpu["instructions"] / 25e6 * 1e3)
    table = side_by_side(result["estimate"], cpu)
    assert f"{cpu['instructions']:,}" in table and "Vela estimate" in table


@pytest.mark.parametrize(
    "args, message",
    [
        (["--accelerator", "ethos-u99"], "Unknown Ethos-U configuration"),
        (["--board", "host"], "no instruction counter"),
    ],
)
def test_bad_requests_are_clear_errors(digits_tflite, args, message) -> None:
    res = CliRunner().invoke(main, ["npu", str(digits_tflite), *args])
    assert res.exit_code == 2 and message in res.output


def test_missing_vela_says_how_to_install(monkeypatch, digits_tflite) -> None:
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(TinypipeError, match=r"tinypipe\[npu\]"):
        npu.estimate_npu(digits_tflite)
