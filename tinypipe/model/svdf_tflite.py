"""Full-int8 .tflite for a Keras SVDF model, written from the schema.

The TF converter never emits SVDF from Keras layers, so tinypipe quantizes the zoo's SVDF chain
(input, optional Reshape, SVDF, Dense, Softmax) itself, following the TFLite quantization spec:
int8 activations (asymmetric, ranges calibrated on representative samples, zero included),
int8 weights (symmetric, per tensor), int32 biases at input scale x weight scale, and what
TFLM's int8 SVDF takes besides: int16 time weights and an int16 activation state (symmetric),
its bias at state scale x time-weight scale. The softmax output is 1/256 with zero point -128.

The SVDF op consumes one frame per call and keeps its memory in the state, while the Keras
layer reads a whole sequence: the graph slices out each of the last `memory` frames (older ones
cannot reach the output) and runs one SVDF op per frame, all sharing the weights and the state.
tinypipe's runners and the TFLM oracle reset the state before each sample, so one call
classifies one sequence from a zero state, as the Keras layer does. The SVDF's ReLU comes from
its output quantization: the range starts at 0 with zero point -128, where the int8 SVDF's
output clamp sits.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import TinypipeError

INT8 = (-128, 127)


def is_svdf_model(model) -> bool:
    """Whether `model` holds an SVDF layer, also inside a nested model."""
    return any(
        type(layer).__name__ == "SVDF" or (hasattr(layer, "layers") and is_svdf_model(layer))
        for layer in model.layers
    )


def _asymmetric(lo: float, hi: float) -> tuple[float, int]:
    """int8 scale and zero point for the real range [lo, hi], widened to hold 0."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-9:
        hi = lo + 1e-6  # a constant-zero tensor: any scale represents it
    scale = (hi - lo) / 255.0
    zero_point = int(np.clip(round(-128 - lo / scale), *INT8))
    return float(np.float32(scale)), zero_point


def _symmetric(w: np.ndarray, limit: int, dtype: str) -> tuple[np.ndarray, float]:
    """Values quantized symmetrically to +-limit with one scale (zero point 0)."""
    amax = float(np.abs(w).max()) or 1e-6
    scale = float(np.float32(amax / limit))
    return np.clip(np.round(w / scale), -limit, limit).astype(dtype), scale


def _bias(b: np.ndarray, scale: float) -> np.ndarray:
    q = np.round(np.asarray(b, np.float64) / scale)
    return np.clip(q, -(2**31), 2**31 - 1).astype(np.int32)


def _time_weights(
    wt: np.ndarray, b: np.ndarray, s_state: float
) -> tuple[np.ndarray, float, np.ndarray]:
    """int16 time weights, their scale and the int32 bias, sized so no unit's time sum can
    leave int32: TFLM sums the int16 x int16 products of a unit's `rank` filters over the whole
    memory in int32 and would wrap, so a full-range weight set shrinks until the bound holds."""
    limit = 32767
    while True:
        wt_q, s_wt = _symmetric(wt, limit, "int16")
        s_bias = float(np.float32(np.float32(s_state) * np.float32(s_wt)))
        b_q = _bias(b, s_bias)
        worst = np.abs(wt_q.astype(np.int64)).reshape(len(b), -1).sum(axis=1) * 32768
        if (worst + np.abs(b_q.astype(np.int64))).max() < 2**31 or limit < 2:
            return wt_q, s_wt, b_q
        limit = int(limit * 0.9)


def _layers(model) -> tuple:
    """(reshape or None, svdf, dense) of the supported chain, or a clear refusal."""
    names = [type(layer).__name__ for layer in model.layers]
    body = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    kinds = [type(layer).__name__ for layer in body]
    reshape = body.pop(0) if kinds[:1] == ["Reshape"] else None
    kinds = [type(layer).__name__ for layer in body]
    ok = kinds == ["SVDF", "Dense", "Softmax"]
    if ok:
        dense = body[1]
        ok = dense.get_config().get("activation") == "linear" and dense.use_bias
    if not ok or len(model.inputs) != 1:
        raise TinypipeError(
            f"tinypipe writes int8 SVDF models of the form Input, [Reshape], SVDF, Dense, "
            f"Softmax; this one has {', '.join(names)}.",
            "Train the zoo's svdf model (`tinypipe train svdf`) or follow its layout.",
        )
    return reshape, body[0], body[1]


def _check_against_keras(model, rep: np.ndarray, logits: np.ndarray) -> None:
    """The calibration math must be the model's: compare class probabilities on a few samples."""
    probe = rep[:8]
    want = np.asarray(model(probe), np.float64).reshape(len(probe), -1)
    z = np.exp(logits[:8] - logits[:8].max(axis=1, keepdims=True))
    got = z / z.sum(axis=1, keepdims=True)
    if not np.allclose(want, got, atol=1e-4):
        raise TinypipeError(
            "The SVDF model computes something other than the SVDF chain tinypipe quantizes "
            f"(max difference {float(np.abs(want - got).max()):.3g}).",
            "Use the zoo's svdf layout: Input, [Reshape], SVDF, Dense, Softmax.",
        )


def _sequence_frames(m: ModelBuilder, in_shape: tuple, used: int, s_x: float, zp_x: int):
    """The whole-sequence input and its last `used` frames, each [1, features]."""
    frames, n_in = in_shape[0], int(np.prod(in_shape[1:]))
    x = m.tensor((1, *in_shape), scale=s_x, zero_point=zp_x, name="input")
    seq_t = x
    if len(in_shape) != 2:
        seq_t = m.tensor((1, frames, n_in), scale=s_x, zero_point=zp_x, name="frames")
        shape = m.tensor((3,), "int32", data=np.array([1, frames, n_in]), name="frames_shape")
        m.op("RESHAPE", [x, shape], [seq_t], "ReshapeOptions", new_shape=[1, frames, n_in])
    # frame t as [1, features]: a strided slice that drops the frame axis
    strides = m.tensor((3,), "int32", data=np.array([1, 1, 1]), name="frame_strides")
    frame_ts = []
    for t in range(frames - used, frames):
        begin = m.tensor((3,), "int32", data=np.array([0, t, 0]), name=f"frame_{t}_begin")
        end = m.tensor((3,), "int32", data=np.array([1, t + 1, n_in]), name=f"frame_{t}_end")
        frame = m.tensor((1, n_in), scale=s_x, zero_point=zp_x, name=f"frame_{t}")
        m.op("STRIDED_SLICE", [seq_t, begin, end, strides], [frame], "StridedSliceOptions",
             version=2, shrink_axis_mask=2)  # fmt: skip
        frame_ts.append(frame)
    return x, frame_ts


def svdf_int8_tflite(model, representative: np.ndarray, streaming: bool = False) -> bytes:
    """Full-int8 .tflite bytes of a Keras SVDF model, calibrated on `representative` samples
    shaped (n, *input_shape) in the model's float input domain.

    `streaming=True` writes the form TFLM's streaming keyword models take instead: one frame
    [1, features] per call into one SVDF op, the state carried from call to call (reset it to
    start a sequence). Quantized the same way, its output after a sequence's last frame is the
    whole-sequence model's, bit for bit."""
    _, svdf, dense = _layers(model)
    in_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    rep = np.asarray(representative, np.float32)
    if rep.ndim < 2 or len(rep) == 0 or tuple(rep.shape[1:]) != in_shape:
        raise TinypipeError(
            f"SVDF quantization needs representative samples shaped (n, {in_shape}), "
            f"got {rep.shape}.",
            "Pass calibration data from the dataset the model was trained on.",
        )
    wf, wt, b = (np.asarray(w, np.float64) for w in svdf.get_weights())
    wd, bd = (np.asarray(w, np.float64) for w in dense.get_weights())
    filters, memory = wt.shape
    units, rank = svdf.units, svdf.rank
    frames = in_shape[0]  # images are read row by row (the Reshape)
    seq = rep.reshape(len(rep), frames, -1).astype(np.float64)
    n_in = seq.shape[2]
    used = min(frames, memory)  # frames that reach the output

    # calibration: the float math of the chain on the representative samples
    feats = seq[:, frames - used :] @ wf.T  # what the state holds, [n, used, filters]
    window = np.zeros((len(rep), memory, filters))
    window[:, memory - used :] = feats
    per_unit = np.einsum("bmf,fm->bf", window, wt).reshape(len(rep), units, rank).sum(axis=2)
    hidden = np.maximum(per_unit + b, 0.0)
    logits = hidden @ wd + bd
    _check_against_keras(model, rep, logits)

    s_x, zp_x = _asymmetric(rep.min(), rep.max())
    wf_q, s_wf = _symmetric(wf, 127, "int8")
    s_state = float(np.float32((float(np.abs(feats).max()) or 1e-6) / 32767))
    wt_q, s_wt, b_q = _time_weights(wt, b, s_state)
    s_bias = float(np.float32(np.float32(s_state) * np.float32(s_wt)))
    s_h, zp_h = _asymmetric(0.0, hidden.max())  # zero point -128: the clamp is the ReLU
    wd_q, s_wd = _symmetric(wd.T, 127, "int8")
    s_y, zp_y = _asymmetric(logits.min(), logits.max())

    m = ModelBuilder()
    if streaming:
        x = m.tensor((1, n_in), scale=s_x, zero_point=zp_x, name="frame")
        frame_ts = [x]
    else:
        x, frame_ts = _sequence_frames(m, in_shape, used, s_x, zp_x)

    wf_t = m.tensor(wf_q.shape, scale=s_wf, zero_point=0, data=wf_q, name="svdf_weights_feature")
    wt_t = m.tensor(wt_q.shape, "int16", scale=s_wt, zero_point=0, data=wt_q,
                    name="svdf_weights_time")  # fmt: skip
    b_t = m.tensor((units,), "int32", scale=s_bias, zero_point=0, data=b_q,
                   name="svdf_bias")  # fmt: skip
    state = m.tensor((1, filters * memory), "int16", scale=s_state, zero_point=0,
                     variable=True, name="svdf_state")  # fmt: skip
    h = -1
    for k, frame in enumerate(frame_ts):
        h = m.tensor((1, units), scale=s_h, zero_point=zp_h, name=f"svdf_out_{k}")
        m.op("SVDF", [frame, wf_t, wt_t, b_t, state], [h], "SVDFOptions", version=3,
             rank=rank, fused_activation_function="RELU")  # fmt: skip

    classes = wd.shape[1]
    wd_t = m.tensor(wd_q.shape, scale=s_wd, zero_point=0, data=wd_q, name="dense_weights")
    s_bd = float(np.float32(np.float32(s_h) * np.float32(s_wd)))
    bd_t = m.tensor((classes,), "int32", scale=s_bd, zero_point=0, data=_bias(bd, s_bd),
                    name="dense_bias")  # fmt: skip
    y = m.tensor((1, classes), scale=s_y, zero_point=zp_y, name="logits")
    m.op("FULLY_CONNECTED", [h, wd_t, bd_t], [y], "FullyConnectedOptions", version=4,
         fused_activation_function="NONE")  # fmt: skip
    p = m.tensor((1, classes), scale=1 / 256, zero_point=-128, name="output")
    m.op("SOFTMAX", [y], [p], "SoftmaxOptions", version=2, beta=1.0)
    return m.build([x], [p], description="tinypipe int8 SVDF")
