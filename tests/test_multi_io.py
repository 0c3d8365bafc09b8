"""Models with several inputs and outputs, through the whole stack: the C API (one pointer per
tensor, named in model.h), validate with an .npz per input and per output, the batch runner and
the firmware link (packed blocks), inspect; bit-exact with TFLM on the host and on a Cortex-M4."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.check.reference import run_tflm_all
from tinypipe.check.validate import validate_host, validate_on_board
from tinypipe.cli import main
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.iolayout import Packing
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.device.hostrun import WARNINGS, find_cc


def _two_in_two_out() -> bytes:
    """a (1,2,3,5), b (1,2,3,5) -> ADD -> sum; CONCATENATION(a, b) on channels -> cat (1,2,3,10);
    5 channels so the second input's packed offset needs padding. Graph outputs listed as
    (cat, sum), the reverse of execution order."""
    b = ModelBuilder()
    q = {"scale": 0.07, "zero_point": -4}
    a = b.tensor((1, 2, 3, 5), name="in_a", **q)
    c = b.tensor((1, 2, 3, 5), name="in_b", **q)
    s = b.tensor((1, 2, 3, 5), scale=0.11, zero_point=9, name="sum")
    cat = b.tensor((1, 2, 3, 10), name="cat", **q)
    b.op("ADD", [a, c], [s], "AddOptions", fused_activation_function="RELU")
    b.op("CONCATENATION", [a, c], [cat], "ConcatenationOptions", axis=3)
    return b.build([a, c], [cat, s])


def _inputs(g, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, (n, *t.shape), dtype=np.int8) for t in g.input_tensors]


def test_packing_round_trip_and_alignment():
    g = read_tflite(_two_in_two_out())
    p = Packing.of(g.input_tensors)
    assert p.offsets == (0, 32) and p.nbytes == 62  # 30 bytes, padded to 32
    x = _inputs(g, 3, 0)
    blocks = p.pack(x)
    assert blocks.shape == (3, 62) and not blocks[:, 30:32].any()
    for got, want in zip(p.unpack(blocks), x):
        np.testing.assert_array_equal(got, want)


def test_c_api_names_every_tensor():
    h = generate_c(read_tflite(_two_in_two_out())).files["model.h"]
    assert "/* in1: tensor 'in_b' */" in h and "/* out0: tensor 'cat' */" in h
    assert "int model_invoke(const int8_t *in0, const int8_t *in1, int8_t *out0, int8_t *out1);" in h
    for macro, value in [
        ("MODEL_NUM_INPUTS", "2"),
        ("MODEL_NUM_OUTPUTS", "2"),
        ("MODEL_INPUT1_ELEMENTS", "30"),
        ("MODEL_OUTPUT0_ELEMENTS", "60"),
        ("MODEL_OUTPUT1_ZERO_POINT", "9"),
        ("MODEL_INPUT1_PACKED_OFFSET", "32"),
        ("MODEL_OUTPUTS_PACKED_BYTES", "90"),
    ]:
        assert f"#define {macro} {value}\n" in h


def test_single_io_api_unchanged(digits_tflite):
    h = generate_c(read_tflite(digits_tflite)).files["model.h"]
    assert "int model_invoke(const int8_t *input, int8_t *output);" in h
    assert "#define MODEL_INPUT_ELEMENTS 64\n" in h and "invoke_packed" not in h


def test_user_main_calls_the_api(tmp_path):
    """A caller's own C main, written against model.h as documented, gets TFLM's outputs."""
    g = read_tflite(_two_in_two_out())
    c = generate_c(g)
    for name, text in c.files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "main.c").write_text(
        """#include <stdio.h>
#include "model.h"
int main(void) {
    int8_t a[MODEL_INPUT0_ELEMENTS], b[MODEL_INPUT1_ELEMENTS];
    int8_t cat[MODEL_OUTPUT0_ELEMENTS], sum[MODEL_OUTPUT1_ELEMENTS];
    if (fread(a, 1, sizeof a, stdin) != sizeof a || fread(b, 1, sizeof b, stdin) != sizeof b)
        return 3;
    model_invoke(a, b, cat, sum);
    fwrite(cat, 1, sizeof cat, stdout);
    fwrite(sum, 1, sizeof sum, stdout);
    return 0;
}
"""
    )
    exe = tmp_path / "app"
    sources = [str(p) for p in sorted(tmp_path.glob("*.c"))]
    subprocess.run([find_cc(), "-O1", *WARNINGS, *sources, "-o", str(exe)], check=True)
    x = _inputs(g, 1, 7)
    res = subprocess.run([str(exe)], input=x[0].tobytes() + x[1].tobytes(), capture_output=True)
    assert res.returncode == 0
    want = run_tflm_all(g.model_bytes, x)
    assert res.stdout == want[0].tobytes() + want[1].tobytes()


def test_builder_model_bit_exact_on_host():
    g = read_tflite(_two_in_two_out())
    x = _inputs(g, 8, 1)
    verdict, outputs = validate_host(g, x, sanitize=True)
    assert verdict.bit_exact and verdict.samples == 8, verdict.summary()
    assert [o.shape for o in outputs] == [(8, 1, 2, 3, 10), (8, 1, 2, 3, 5)]


def test_validate_cli_npz_by_name_and_index(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(_two_in_two_out())
    g = read_tflite(model)
    a, b = _inputs(g, 4, 2)
    np.savez(tmp_path / "x.npz", in_b=b, **{"0": a})
    out = tmp_path / "y.npz"
    res = CliRunner().invoke(
        main, ["validate", str(model), "--inputs", str(tmp_path / "x.npz"), "--save-outputs", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "BIT-EXACT" in res.output
    want = run_tflm_all(g.model_bytes, [a, b])
    saved = np.load(out)
    assert sorted(saved.files) == ["cat", "sum"]
    np.testing.assert_array_equal(saved["cat"], want[0])
    np.testing.assert_array_equal(saved["sum"], want[1])


@pytest.mark.parametrize(
    "arrays, save, message",
    [
        ("npy", None, "is a single array"),
        ("missing", None, "no array for model input 1 'in_b'"),
        ("npz", "y.npy", "must be an .npz"),
    ],
)
def test_validate_cli_refusals(tmp_path, arrays, save, message):
    model = tmp_path / "m.tflite"
    model.write_bytes(_two_in_two_out())
    a, b = _inputs(read_tflite(model), 2, 3)
    if arrays == "npy":
        path = tmp_path / "x.npy"
        np.save(path, a)
    else:
        path = tmp_path / "x.npz"
        np.savez(path, **({"in_a": a} if arrays == "missing" else {"in_a": a, "in_b": b}))
    args = ["validate", str(model), "--inputs", str(path)]
    if save:
        args += ["--save-outputs", str(tmp_path / save)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "y.npy").exists()


def test_inspect_lists_every_input_and_output(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(_two_in_two_out())
    res = CliRunner().invoke(main, ["inspect", str(model)])
    assert res.exit_code == 0, res.output
    assert "input 0 'in_a' [1, 2, 3, 5]" in res.output
    assert "input 1 'in_b' [1, 2, 3, 5]" in res.output
    assert "output 1 'sum' [1, 2, 3, 5] int8 s=0.11 zp=9" in res.output


@pytest.fixture(scope="module")
def keras_two_in_two_out() -> bytes:
    """A functional Keras model made by the TF converter: two inputs -> Add / Concatenate ->
    two conv heads -> two outputs (the converter orders both inputs and outputs differently
    from the Keras model)."""
    import tensorflow as tf

    keras = tf.keras
    keras.utils.set_random_seed(3)
    a = keras.Input((6, 6, 2), batch_size=1, name="image")
    b = keras.Input((6, 6, 2), batch_size=1, name="mask")
    s = keras.layers.Add()([a, b])
    cat = keras.layers.Concatenate()([a, s])
    y0 = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="seg")(cat)
    y1 = keras.layers.AveragePooling2D(2)(keras.layers.Conv2D(4, 1, name="cls")(s))
    model = keras.Model([a, b], [y0, y1])
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(32):
            yield [rng.normal(0, 1, (1, 6, 6, 2)).astype(np.float32) for _ in range(2)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return bytes(conv.convert())


def test_keras_model_bit_exact_on_host(keras_two_in_two_out):
    g = read_tflite(keras_two_in_two_out)
    assert len(g.inputs) == 2 and len(g.outputs) == 2
    assert all(t.dtype == "int8" for t in g.tensors if not t.is_const or t.dtype != "int32")
    verdict, _ = validate_host(g, _inputs(g, 8, 4))
    assert verdict.bit_exact, verdict.summary()


@pytest.mark.qemu
def test_keras_model_bit_exact_on_m4(keras_two_in_two_out):
    g = read_tflite(keras_two_in_two_out)
    verdict, outputs = validate_on_board(g, _inputs(g, 4, 5), "mps2-an386")
    assert verdict.bit_exact and verdict.samples == 4, verdict.summary()
    assert len(outputs) == 2 and verdict.instructions


@pytest.mark.qemu
def test_builder_model_bit_exact_on_m4():
    g = read_tflite(_two_in_two_out())
    verdict, _ = validate_on_board(g, _inputs(g, 4, 6), "mps2-an386")
    assert verdict.bit_exact and verdict.samples == 4, verdict.summary()
