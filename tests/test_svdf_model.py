"""The zoo's SVDF keyword model: the Keras layer against the op's math in numpy, the int8 .tflite
tinypipe writes for it (the TF converter makes no SVDF) scored with the TFLM interpreter, and
the compiled C bit-exact with TFLM on the host and on mps2-an386."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from op_cases import check_stream_bit_exact

from tinypipe.check.reference import quantize_input, run_tflm
from tinypipe.check.validate import validate_host, validate_on_board
from tinypipe.compiler.graph import read_tflite
from tinypipe.errors import TinypipeError
from tinypipe.model import zoo
from tinypipe.model.quantize import quantize_model
from tinypipe.model.svdf import svdf_layer_class
from tinypipe.model.svdf_tflite import svdf_int8_tflite
from tinypipe.model.train import train_model


def svdf_steps(x, weights_feature, weights_time, bias, rank):
    """TFLite's float SVDF (ReLU) called once per frame of x [batch, frames, features] from a
    zero state: the state [batch, filters, memory] drops its oldest column, takes the frame's
    feature products as the newest, and each unit sums its rank filters' time products."""
    filters, memory = weights_time.shape
    batch, frames, _ = x.shape
    state = np.zeros((batch, filters, memory))
    out = np.zeros((batch, frames, filters // rank))
    for t in range(frames):
        state[:, :, :-1] = state[:, :, 1:].copy()
        state[:, :, -1] = x[:, t, :] @ weights_feature.T
        per_filter = (state * weights_time[None]).sum(axis=2)
        out[:, t] = np.maximum(per_filter.reshape(batch, -1, rank).sum(axis=2) + bias, 0.0)
    return out


def test_keras_svdf_equals_the_op_stepped_frame_by_frame() -> None:
    """Random shapes, with memory shorter and longer than the sequence; the layer's output is
    the op's after the last frame."""
    keras = zoo.import_keras()
    SVDF = svdf_layer_class()
    rng = np.random.default_rng(0)
    for case in range(5):
        frames, feats = int(rng.integers(1, 12)), int(rng.integers(1, 7))
        units, rank, memory = (
            int(rng.integers(1, 6)),
            int(rng.integers(1, 4)),
            int(rng.integers(1, 10)),
        )
        inp = keras.Input((frames, feats))
        layer = SVDF(units, memory, rank=rank)
        model = keras.Model(inp, layer(inp))
        wf = rng.normal(size=(units * rank, feats))
        wt = rng.normal(size=(units * rank, memory))
        b = rng.normal(size=units)
        layer.set_weights([wf, wt, b])
        x = rng.normal(size=(3, frames, feats)).astype(np.float32)
        want = svdf_steps(x.astype(np.float64), wf, wt, b, rank)[:, -1]
        got = np.asarray(model(x))
        assert (want > 0).any(), case  # ReLU leaves something to compare
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=f"case {case}")


@pytest.fixture(scope="module")
def digits_svdf(tmp_path_factory) -> Path:
    """The zoo's svdf trained on digits (rows as frames) and quantized by tinypipe."""
    out = tmp_path_factory.mktemp("svdf_digits")
    res = train_model("digits", "svdf", out, epochs=10, seed=0, verbose=0, log=None)
    assert res.float_accuracy >= 0.85
    return out


def test_written_int8_model_keeps_the_float_accuracy_and_is_bit_exact_on_host(
    digits_svdf: Path,
) -> None:
    q = quantize_model(digits_svdf / "model.keras", digits_svdf / "model.tflite", log=None)
    g = read_tflite(q.tflite_path)  # through tinypipe's verify like any file
    ops = [op.opcode for op in g.operators]
    assert ops.count("SVDF") == 8 and ops[-2:] == ["FULLY_CONNECTED", "SOFTMAX"]  # one per row
    assert set(ops) <= zoo.SUPPORTED_INT8_OPS
    assert q.int8_accuracy >= 0.85
    assert abs(q.drop_points) <= 3.0, q.report
    x = np.load(digits_svdf / "x_test_int8.npy")[:40]
    verdict, _ = validate_host(g, x, sanitize=True)
    assert verdict.samples == 40
    assert verdict.bit_exact, verdict.summary()


@pytest.mark.qemu
def test_written_model_bit_exact_on_m4(digits_svdf: Path) -> None:
    tflite = digits_svdf / "model.tflite"
    if not tflite.exists():
        quantize_model(digits_svdf / "model.keras", tflite, log=None)
    x = np.load(digits_svdf / "x_test_int8.npy")[:12]
    verdict, _ = validate_on_board(read_tflite(tflite), x, "mps2-an386")
    assert verdict.samples == 12
    assert verdict.bit_exact, verdict.summary()


def test_long_sequence_reads_its_last_memory_frames() -> None:
    """49 frames, memory 32: the graph slices out the last 32 frames. Time weights of equal
    size would overflow TFLM's int32 time sums at full int16 range; the writer sizes them so no
    unit's sum can, and the int8 model tracks the float one on TFLM. The streaming form of the
    same model agrees with it."""
    keras = zoo.import_keras()
    keras.utils.set_random_seed(3)
    model = zoo.build_model("svdf", (49, 10), 6, batch_size=None)  # any batch converts
    svdf = model.get_layer("svdf_1")
    wf, wt, b = svdf.get_weights()
    rng = np.random.default_rng(3)
    svdf.set_weights([wf, np.sign(rng.normal(size=wt.shape)) * 0.3, b + 0.1])
    dense = model.get_layer("dense_1")
    dense.set_weights([w * 4 for w in dense.get_weights()])
    x = rng.uniform(0, 1, (64, 49, 10)).astype(np.float32)
    tflite = zoo.convert_int8(model, x[:32])
    g = read_tflite(tflite)
    assert [op.opcode for op in g.operators].count("SVDF") == 32
    wt_t = next(t for t in g.tensors if t.name == "svdf_weights_time")
    bias_t = next(t for t in g.tensors if t.name == "svdf_bias")
    per_unit = np.abs(wt_t.data.astype(np.int64)).reshape(len(bias_t.data), -1).sum(axis=1)
    assert (per_unit * 32768 + np.abs(bias_t.data.astype(np.int64))).max() < 2**31
    assert wt_t.data.max() > 500  # still a fine time-weight grid

    tin, tout = g.input_tensors[0], g.output_tensors[0]
    y = run_tflm(tflite, quantize_input(x, tin.scale, tin.zero_point, np.int8)).reshape(64, -1)
    p_int8 = (y.astype(np.float64) - tout.zero_point) * tout.scale
    p_float = np.asarray(model(x), np.float64)
    assert p_float.max(axis=1).mean() > 0.4  # confident enough for argmax to mean something
    assert np.mean(p_int8.argmax(axis=1) == p_float.argmax(axis=1)) >= 0.9
    assert np.abs(p_int8 - p_float).max() < 0.1
    x_q = quantize_input(x[:8], tin.scale, tin.zero_point, np.int8)
    verdict, _ = validate_host(g, x_q)
    assert verdict.bit_exact, verdict.summary()

    # TFLM's streaming form: one frame per call, the state carried over; after a sequence's
    # 49 frames from a zero state it gives the whole-sequence model's output, bit for bit,
    # in TFLM and in the compiled C (ASan/UBSan)
    stream = svdf_int8_tflite(model, x[:32], streaming=True)
    assert [op.opcode for op in read_tflite(stream).operators] == [
        "SVDF",
        "FULLY_CONNECTED",
        "SOFTMAX",
    ]
    whole = y[:4]
    for k in range(1, 4):
        per_frame = run_tflm(stream, x_q[k][:, None, :], stream=True)
        np.testing.assert_array_equal(per_frame[-1].ravel(), whole[k])
    per_frame = check_stream_bit_exact(stream, x_q[0][:, None, :])
    np.testing.assert_array_equal(per_frame[-1].ravel(), whole[0])
    assert len(np.unique(per_frame.reshape(49, -1), axis=0)) > 1  # it does change per frame


def test_other_layouts_and_int16_activations_are_refused() -> None:
    keras = zoo.import_keras()
    SVDF = svdf_layer_class()
    inp = keras.Input((8, 4), batch_size=1)
    h = SVDF(6, 4, name="svdf")(inp)
    out = keras.layers.Softmax()(keras.layers.Dense(3, activation="relu")(h))
    rep = np.random.default_rng(0).uniform(size=(4, 8, 4)).astype(np.float32)
    with pytest.raises(TinypipeError, match="Input, \\[Reshape\\], SVDF, Dense, Softmax"):
        zoo.convert_int8(keras.Model(inp, out), rep)
    plain = zoo.build_model("svdf", (8, 4), 3)
    wrapped = keras.Model(inp, plain(inp))  # a nested SVDF model gets the same clear refusal
    with pytest.raises(TinypipeError, match="Input, \\[Reshape\\], SVDF, Dense, Softmax"):
        zoo.convert_int8(wrapped, rep)
    with pytest.raises(TinypipeError, match="int8 only"):
        zoo.convert_int8(plain, rep, activations="int16")
