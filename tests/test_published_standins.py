"""Published int8 models as they are shipped: stand-ins for the MLPerf Tiny reference models and
TFLM's hello_world, converted with an open batch (shape_signature [-1, ...]) by
scripts/published_standins.py, compile with no edits and match TFLM bit for bit on the host and
on an emulated Cortex-M4."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from op_cases import check_bit_exact, check_bit_exact_on_board

from tinypipe.compiler.graph import read_tflite

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "published_standins.py"
BIG = {"mobilenet_v1", "resnet8"}  # a few seconds of QEMU each: marked slow on the board


def _script():
    spec = importlib.util.spec_from_file_location("published_standins", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def standin():
    """standin(label) -> .tflite bytes, made once per session by the repo's script."""
    script, cache = _script(), {}

    def make(label: str) -> bytes:
        if label not in cache:
            cache[label] = script.make_standin(label)
        return cache[label]

    return make


LABELS = ["ds_cnn", "mobilenet_v1", "resnet8", "fc_autoencoder", "hello_world"]


@pytest.mark.parametrize("label", LABELS)
def test_standin_bit_exact_on_host(standin, label):
    model = standin(label)
    g = read_tflite(model)
    for t in g.input_tensors + g.output_tensors:
        assert t.shape_signature[0] == -1 and t.shape[0] == 1, (t.name, t.shape_signature)
    assert {t.dtype for t in g.input_tensors + g.output_tensors} == {"int8"}
    check_bit_exact(model, seed=11, sanitize=label == "hello_world")


@pytest.mark.qemu
@pytest.mark.parametrize(
    "label", [pytest.param(x, marks=pytest.mark.slow) if x in BIG else x for x in LABELS]
)
def test_standin_bit_exact_on_m4(standin, label):
    check_bit_exact_on_board(standin(label), seed=12, board="mps2-an386", samples=3)


def test_script_writes_the_files(tmp_path, capsys):
    assert _script().main(["-o", str(tmp_path), "hello_world"]) == 0
    g = read_tflite(tmp_path / "hello_world.tflite")
    assert g.distinct_ops() == ["FULLY_CONNECTED"] and g.input_tensors[0].shape_signature == (-1, 1)
    assert "open batch" in capsys.readouterr().out
