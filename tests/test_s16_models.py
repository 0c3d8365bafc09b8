"""16x8 models made by the TF converter (int16 activations, int8 weights), end to end.

`tinypipe quantize --activations int16` on a trained digits CNN (accuracy reported like int8,
checked again on TFLM), and a Keras model covering every 16x8 op the converter emits for
CNNs (CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, MAX/AVERAGE_POOL_2D, MEAN, RESHAPE,
TRANSPOSE_CONV, LOGISTIC, FULLY_CONNECTED, SOFTMAX), both bit-exact with TFLM on the host and on
the emulated Cortex-M4.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.check import reference
from tinypipe.check.validate import validate_host, validate_on_board
from tinypipe.cli import main
from tinypipe.compiler.graph import read_tflite

BOARD = "mps2-an386"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def vibration16_run(tmp_path_factory):
    """`tinypipe run examples/vibration16` (5 training epochs instead of 15, to stay quick)."""
    cfg = tmp_path_factory.mktemp("vib16") / "tinypipe.toml"
    text = (EXAMPLES / "vibration16" / "tinypipe.toml").read_text()
    assert "epochs = 15" in text
    cfg.write_text(text.replace("epochs = 15", "epochs = 5"))
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 0, res.output
    return cfg.parent / "out", res.output


@pytest.fixture(scope="module")
def all_ops_16x8() -> bytes:
    """A small untrained Keras model using every 16x8 CNN op, converted 16x8."""
    from tinypipe.model.zoo import convert_int8, import_keras

    keras = import_keras()
    keras.utils.set_random_seed(3)
    L = keras.layers
    inp = keras.Input((12, 10, 2), batch_size=1)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    y = L.DepthwiseConv2D(3, padding="same")(x)
    x = L.Subtract()([L.Add()([x, y]), L.Conv2D(8, 1)(x)])
    x = L.MaxPooling2D(2)(x)
    x = L.AveragePooling2D(2, padding="same")(x)
    x = L.Conv2D(12, 3, strides=2, padding="same", use_bias=False)(x)
    x = L.Conv2DTranspose(6, 3, strides=2, padding="same", bias_initializer="random_normal")(x)
    x = L.Multiply()([x, L.Conv2D(6, 1, activation="sigmoid")(x)])  # a sigmoid gate
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(6)(x)
    out = L.Softmax()(x)
    model = keras.Model(inp, out)
    rep = np.random.default_rng(0).normal(0, 1, (16, 12, 10, 2)).astype(np.float32)
    return convert_int8(model, rep, activations="int16")


def _inputs(graph, n: int, seed: int) -> np.ndarray:
    t = graph.input_tensors[0]
    x = np.random.default_rng(seed).normal(0, 1, (n, *t.shape))
    return reference.quantize_input(x, t.scale, t.zero_point, np.int16)


@pytest.mark.slow
@pytest.mark.qemu
def test_vibration16_example_end_to_end(vibration16_run) -> None:
    out, log = vibration16_run
    assert "host: BIT-EXACT on 32 samples" in log and "mps2-an386: BIT-EXACT on 32 samples" in log
    report = json.loads((out / "report.json").read_text())
    g = read_tflite(out / "model.tflite")
    assert g.input_tensors[0].dtype == "int16" and report["accuracy"]["activations"] == "int16"
    # 5 epochs on the noisy vibration data: well above chance (0.25), and 16x8 loses little
    acc = report["accuracy"]
    assert acc["int8"] >= 0.5 and acc["float"] - acc["int8"] <= 0.02, acc
    assert (out / "data" / "x_test_int16.npy").is_file()
    assert "| int16 (TFLM) |" in (out / "report.md").read_text()


@pytest.mark.slow
def test_quantize_cli_int16_accuracy_measured_on_tflm(vibration16_run, tmp_path) -> None:
    out, _ = vibration16_run
    tflite = tmp_path / "m16.tflite"
    res = CliRunner().invoke(
        main,
        [
            "quantize",
            str(out / "train" / "model.keras"),
            "-o",
            str(tflite),
            "--activations",
            "int16",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "16x8" in res.output and "int16 accuracy (TFLM)" in res.output
    report = json.loads((tmp_path / "quant.json").read_text())
    assert report["activations"] == "int16"
    g = read_tflite(tflite)
    tin = g.input_tensors[0]
    assert tin.dtype == "int16" and g.output_tensors[0].dtype == "int16"
    assert any(t.dtype == "int64" for t in g.tensors)  # the converter's 16x8 biases
    from tinypipe.model.datasets import load_dataset

    data = load_dataset("vibration", seed=0, test_fraction=0.2)
    x = reference.quantize_input(data.x_test, tin.scale, tin.zero_point, np.int16)
    y = reference.run_tflm(tflite.read_bytes(), x).reshape(len(x), -1)
    acc = float(np.mean(y.argmax(axis=1) == data.y_test))
    assert acc == pytest.approx(report["int8_test_accuracy"], abs=1e-6)
    assert abs(report["accuracy_drop_points"]) <= 3.0


@pytest.mark.slow
@pytest.mark.qemu
def test_every_16x8_cnn_op_bit_exact_on_host_and_m4(all_ops_16x8) -> None:
    g = read_tflite(all_ops_16x8)
    ops = set(g.distinct_ops())
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "SUB", "MAX_POOL_2D", "AVERAGE_POOL_2D",
            "MEAN", "FULLY_CONNECTED", "SOFTMAX", "TRANSPOSE_CONV", "MUL", "LOGISTIC"} <= ops  # fmt: skip
    tconv = next(op for op in g.operators if op.opcode == "TRANSPOSE_CONV")
    assert g.tensors[tconv.inputs[3]].dtype == "int64"  # the converter's 16x8 bias
    verdict, _ = validate_host(g, _inputs(g, 16, 1))
    assert verdict.bit_exact, verdict.summary()
    verdict, _ = validate_on_board(g, _inputs(g, 6, 3), BOARD)
    assert verdict.samples == 6 and verdict.bit_exact, verdict.summary()


def test_config_refuses_unknown_activation_type(tmp_path) -> None:
    from tinypipe.errors import TinypipeError
    from tinypipe.pipeline.config import load_config

    (tmp_path / "tinypipe.toml").write_text('[quantize]\nactivations = "int4"\n')
    with pytest.raises(TinypipeError, match="int8 or int16"):
        load_config(tmp_path)
    (tmp_path / "tinypipe.toml").write_text('[quantize]\nactivations = "int16"\n')
    assert load_config(tmp_path).get("quantize", "activations") == "int16"
