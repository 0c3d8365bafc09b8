"""FULLY_CONNECTED: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized one-op models built directly (per-tensor and per-channel weights, asymmetric input
zero points and per-tensor weight zero points, with and without bias, every fused activation,
several rows, keep_num_dims, odd sizes), plus a model made by the real TF converter.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from op_cases import ACTIVATIONS, build_fc, check_bit_exact, merge_models, run_random_cases

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c, lower_all
from tinypipe.compiler.fully_connected_gen import (
    accumulator_range,
    dense_blob,
    pairable,
    paired_dense_blob,
)
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.fully_connected import interleave_x4
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def random_fc_config(rng: np.random.Generator) -> dict:
    return {
        "rows": int(rng.choice([1, 1, 2, 3, 5])),
        "in_features": int(rng.choice([1, 3, 7, 16, 33, 64, 97, 250])),
        "out_features": int(rng.choice([1, 2, 5, 10, 17, 31])),
        "layout": str(rng.choice(["2d", "2d", "flatten", "keep_num_dims"])),
        "per_channel": bool(rng.integers(0, 2)),
        "w_zp": bool(rng.integers(0, 4) == 0),  # asymmetric weights (per-tensor only)
        "bias": bool(rng.integers(0, 4) > 0),
        "act": str(rng.choice(ACTIVATIONS)),
        "in_zp": int(rng.integers(-128, 128)),
    }


@pytest.mark.parametrize("chunk", range(3))
def test_fc_random_configs_bit_exact(chunk: int) -> None:
    """30 random configurations (10 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    run_random_cases(random_fc_config, build_fc, 3000 + 10 * chunk, 10)


def random_x4_fc_config(rng: np.random.Generator) -> dict:
    """A random FULLY_CONNECTED that runs 4 outputs at a time (tp_fully_connected_x4_s8):
    symmetric weights, inputs and outputs in fours, several rows and layouts."""
    cfg = random_fc_config(rng)
    cfg.update(
        in_features=int(rng.choice([4, 8, 36, 64, 128])),
        out_features=int(rng.choice([4, 8, 12, 20])),
        w_zp=False,
    )
    return cfg


def build_x4_fc(cfg: dict, rng: np.random.Generator) -> bytes:
    """build_fc, drawn again until tp_fully_connected_x4_s8 is chosen (it also needs every
    output's requantization as host-precomputed constants, which some random scales miss)."""
    for _ in range(50):
        model = build_fc(cfg, rng)
        (low,) = [low for low in lower_all(read_tflite(model)) if low.emits_code]
        if low.func == "tp_fully_connected_x4_s8":
            return model
    raise AssertionError(f"tp_fully_connected_x4_s8 never chosen for {cfg}")


@pytest.mark.parametrize("chunk", range(2))
def test_fc_x4_random_configs_bit_exact(chunk: int) -> None:
    """12 random layers on interleaved weights (the portable loop on this machine; the SMLAD
    loop runs in test_kernels_on_m4.py)."""
    run_random_cases(random_x4_fc_config, build_x4_fc, 3500 + 6 * chunk, 6)


def random_dense_fc_config(rng: np.random.Generator) -> dict:
    """A random FULLY_CONNECTED that runs on a generated kernel (fully_connected_gen.py): as
    random_x4_fc_config with outputs in eights, and inputs from one run of 4 to several unrolled
    passes; one layer in three has a -128 weight, which keeps the plain layout (the others are
    paired: uniform weights stay far from the 2^23 limit)."""
    cfg = random_x4_fc_config(rng)
    cfg.update(
        in_features=int(rng.choice([4, 12, 36, 64, 128, 192])),
        out_features=int(rng.choice([8, 16, 24])),
    )
    cfg["minus_128"] = bool(rng.integers(0, 3) == 0)
    return cfg


def build_dense_fc(cfg: dict, rng: np.random.Generator) -> bytes:
    """build_x4_fc, drawn again until the layer runs on a generated kernel, in the layout the
    config asks for."""
    if cfg.get("minus_128"):
        w = rng.integers(-127, 128, (cfg["out_features"], cfg["in_features"]))
        w[rng.integers(w.shape[0]), rng.integers(w.shape[1])] = -128
        cfg = {**cfg, "weights": w}
    for _ in range(50):
        model = build_x4_fc(cfg, rng)
        cm = generate_c(read_tflite(model))
        (k,) = [k for k, low in enumerate(cm.lowered) if low.emits_code]
        if [d.layers for d in cm.dense] == [[k]] and cm.lowered[k].func == cm.dense[0].name:
            if "minus_128" in cfg:
                assert cm.dense[0].key.paired == (not cfg["minus_128"]), cm.dense[0].name
            return model
    raise AssertionError(f"no generated kernel for {cfg}")


# FULLY_CONNECTED layers at the paired layout's limits (fully_connected_gen.pairable), with the
# layout each must take: 3 rows, no bias, so the folded bias is -in_zp * sum(w). Output 12 (the
# high output of the second group's first pair) has every weight 127: over 516 inputs its
# accumulator spans [-128 * 127 * 516, 127 * 127 * 516] = [-8,388,096, 8,322,564] plus
# -in_zp * 65,532, inside [-2^23, 2^23) = [-8,388,608, 8,388,608) for in_zp -1 (512 below the
# top) and 0 (512 above the bottom), outside for in_zp 1. A -128 weight (a low output's) keeps
# the plain layout too. 516 inputs run as a first pass of 1 run of 4 and 16 passes of 32, 148
# (far from the limit) as a first pass of 5 runs and 4 of 32.
DENSE_LIMITS = {  # label: (in_features, in_zp, a -128 weight, paired)
    "paired at the top": (516, -1, False, True),
    "paired at the bottom": (516, 0, False, True),
    "plain past the bottom": (516, 1, False, False),
    "plain for a -128 weight": (516, 0, True, False),
    "paired, 148 inputs": (148, 5, False, True),
}


def build_dense_limit(label: str, rng: np.random.Generator) -> bytes:
    k, in_zp, minus_128, _ = DENSE_LIMITS[label]
    w = rng.integers(-127, 128, (16, k))
    w[12] = 127
    if minus_128:
        w[3, 100] = -128
    cfg = {
        "rows": 3, "in_features": k, "out_features": 16, "layout": "2d", "per_channel": True,
        "w_zp": False, "bias": False, "act": "NONE", "in_zp": in_zp, "weights": w,
    }  # fmt: skip
    return build_dense_fc(cfg, rng)


def dense_limits_model(seed: int) -> bytes:
    """The DENSE_LIMITS layers side by side in one model, each checked to take its layout."""
    model = merge_models(
        [
            build_dense_limit(label, np.random.default_rng(seed + i))
            for i, label in enumerate(DENSE_LIMITS)
        ]
    )
    cm = generate_c(read_tflite(model))
    layouts = {k: d.key.paired for d in cm.dense for k in d.layers}
    assert [layouts[k] for k in sorted(layouts)] == [p for *_, p in DENSE_LIMITS.values()]
    return model


def edge_inputs(graph, seed: int, samples: int) -> list[np.ndarray]:
    """Per model input, `samples` int8 inputs: all -128, all 127 (where a layer's accumulators
    reach their extremes when its weights share a sign), then random ones."""
    rng = np.random.default_rng(seed)
    out = []
    for t in graph.input_tensors:
        x = rng.integers(-128, 128, (samples, *t.shape), dtype=np.int8)
        x[0], x[1] = -128, 127
        out.append(x)
    return out


@pytest.mark.parametrize("chunk", range(2))
def test_fc_generated_random_configs_bit_exact(chunk: int) -> None:
    """10 random layers on a generated kernel (its portable path here; the assembly runs in
    test_kernels_on_m4.py), every 3rd under ASan/UBSan."""
    run_random_cases(random_dense_fc_config, build_dense_fc, 3600 + 5 * chunk, 5)


def test_dense_limits_bit_exact() -> None:
    """The layers at the paired layout's limits, with inputs at the int8 extremes, under
    ASan/UBSan (the portable path; the assembly runs on the boards' tests)."""
    model = dense_limits_model(3700)
    g = read_tflite(model)
    verdict, _ = validate_host(model, edge_inputs(g, 3700, 4), sanitize=True)
    assert verdict.bit_exact and verdict.samples == 4, verdict.summary()


def test_accumulator_range_is_exact() -> None:
    """accumulator_range against every corner of the input box (a linear function's extremes
    over a box are at its corners), for small random layers."""
    rng = np.random.default_rng(17)
    k = 8
    corners = np.array(list(itertools.product([-128, 127], repeat=k)), np.int64)
    for _ in range(5):
        w = rng.integers(-128, 128, (4, k))
        bias = rng.integers(-(2**20), 2**20, 4)
        values = corners @ w.T + bias
        least, greatest = accumulator_range(w, bias)
        assert least.tolist() == values.min(axis=0).tolist()
        assert greatest.tolist() == values.max(axis=0).tolist()


def test_pairable_at_the_limits() -> None:
    """The high outputs (o + 4..o + 7 of each 8) must stay within [-2^23, 2^23) for every int8
    input, the low ones may not; no weight may be -128."""
    k = 516
    w = np.zeros((16, k), np.int64)
    w[12] = 127  # spans [-8,388,096, 8,322,564]
    w[0] = 127  # a low output may span more
    bias = np.zeros(16, np.int64)
    bias[0] = 10**6
    top, bottom = 2**23 - 8_322_564, -(2**23) + 8_388_096
    for b12, want in ((top - 1, True), (top, False), (bottom, True), (bottom - 1, False)):
        bias[12] = b12
        assert pairable(w, bias) == want, b12
    bias[12] = 0
    assert pairable(w, bias)
    w[5, 7] = -128
    assert not pairable(w, bias)


def test_paired_dense_blob_decodes() -> None:
    """paired_dense_blob read back as its docstring describes gives the weights, the biases
    and the records; and the A, B sums the kernel forms over it (SMLAD's int16 lanes, wrapping
    in 32 bits) decode to the layer's accumulators, for random and extreme inputs."""
    rng = np.random.default_rng(13)
    outs, k = 24, 12
    w = rng.integers(-127, 128, (outs, k))
    bias = rng.integers(-(2**20), 2**20, outs)
    bias[0] = 2**31 - 5  # a low output's bias makes A's start wrap
    requant = rng.integers(-(2**30), 2**30, 3 * outs)
    assert pairable(w, bias)
    blob = paired_dense_blob(w, bias, requant)
    assert blob.dtype == np.int32 and blob.size == (outs // 8) * (2 * k + 32)

    def wrap(v):
        return (np.asarray(v, np.int64) + 2**31) % 2**32 - 2**31

    xs = [np.full(k, -128), np.full(k, 127), *rng.integers(-128, 128, (4, k))]
    for g, block in enumerate(blob.astype(np.int64).reshape(outs // 8, -1)):
        o = 8 * g
        b_start, a_start = block[0:4], block[4:8]
        assert b_start.tolist() == bias[o : o + 4].tolist()
        assert (wrap(a_start - b_start) // 256).tolist() == bias[o + 4 : o + 8].tolist()
        words = block[8 : 8 + 2 * k].reshape(k // 4, 4, 2)  # run, pair, parity
        halves = np.stack([words & 0xFFFF, (words >> 16) & 0xFFFF], axis=-1)
        lanes = (halves ^ 0x8000) - 0x8000  # run, pair, parity, half: input 4 run + 2 half + parity
        lanes = lanes.transpose(1, 0, 3, 2).reshape(4, k)  # pair, input
        low = (lanes & 0xFF ^ 0x80) - 0x80
        assert low.tolist() == w[o : o + 4].tolist()
        assert ((lanes - low) // 256).tolist() == w[o + 4 : o + 8].tolist()
        assert block[8 + 2 * k :].tolist() == requant[3 * o : 3 * o + 24].tolist()
        for x in xs:
            a = wrap(a_start + lanes @ x)
            b = wrap(b_start + low @ x)
            want = bias[o : o + 8] + w[o : o + 8] @ x
            assert b.tolist() == wrap(want[:4]).tolist()
            assert (wrap(a - b) >> 8).tolist() == want[4:].tolist()


def test_dense_blob_layout() -> None:
    """The words the generated kernel reads, element by element from dense_blob's definition."""
    rng = np.random.default_rng(11)
    outs, k = 16, 8
    w = rng.integers(-128, 128, (outs, k)).astype(np.int8)
    bias = rng.integers(-(2**20), 2**20, outs).astype(np.int32)
    requant = rng.integers(-(2**30), 2**30, 3 * outs).astype(np.int32)
    blob = dense_blob(w, bias, requant)
    assert blob.dtype == np.int32 and blob.size == (outs // 8) * (2 * k + 32)

    def word(o: int, i: int) -> int:
        b = [int(v) & 0xFF for v in w[o, i : i + 4]]
        return int(np.uint32(b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24).view(np.int32))

    pos = 0
    for o in range(0, outs, 8):
        assert list(blob[pos : pos + 8]) == list(bias[o : o + 8])
        pos += 8
        for i in range(0, k, 4):
            assert list(blob[pos : pos + 8]) == [word(o + c, i) for c in range(8)]
            pos += 8
        assert list(blob[pos : pos + 24]) == list(requant[3 * o : 3 * o + 24])
        pos += 24
    assert pos == blob.size


def test_interleave_x4_layout() -> None:
    """The layout tp_fully_connected_x4_s8 reads (tp_fully_connected.h), from its definition."""
    w = np.random.default_rng(5).integers(-128, 128, (8, 12)).astype(np.int8)
    got = interleave_x4(w)
    want = [
        int.from_bytes(w[4 * g + j, 4 * k : 4 * k + 4].tobytes(), "little", signed=True)
        for g in range(2)
        for k in range(3)
        for j in range(4)
    ]
    assert got.dtype == np.int32 and got.tolist() == want


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("per_channel", [False, True])
def test_fc_every_activation(act: str, per_channel: bool) -> None:
    rng = np.random.default_rng(23)
    cfg = {
        "rows": 3, "in_features": 45, "out_features": 13, "layout": "2d",
        "per_channel": per_channel, "w_zp": False, "bias": True, "act": act, "in_zp": -77,
    }  # fmt: skip
    check_bit_exact(build_fc(cfg, rng), 23, sanitize=False)


def test_fc_asymmetric_per_tensor_weights() -> None:
    """TFLM applies a per-tensor weight zero point; so does tinypipe."""
    rng = np.random.default_rng(29)
    cfg = {
        "rows": 2, "in_features": 30, "out_features": 9, "layout": "2d",
        "per_channel": False, "w_zp": True, "bias": True, "act": "NONE", "in_zp": 5,
    }  # fmt: skip
    check_bit_exact(build_fc(cfg, rng), 29, sanitize=False)


def test_fc_converter_model_bit_exact() -> None:
    """Dense layers as the TF converter emits them."""
    from tinypipe.model.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers
    keras.utils.set_random_seed(7)
    inp = keras.Input((37,), batch_size=1)
    x = layers.Dense(19, activation="relu")(inp)
    x = layers.Dense(11, activation="relu6")(x)
    x = layers.Dense(5, use_bias=False)(x)
    model = keras.Model(inp, x)
    rep = np.random.default_rng(0).uniform(-1, 1, (32, 37)).astype(np.float32)
    tflite = convert_int8(model, rep)
    g = read_tflite(tflite)
    assert [op.opcode for op in g.operators] == ["FULLY_CONNECTED"] * 3
    check_bit_exact(tflite, 31, sanitize=True)


def test_fc_rejects_asymmetric_per_channel_weights() -> None:
    """TFLM ignores a per-channel weight zero point (the spec requires 0): refuse, don't guess."""
    b = ModelBuilder()
    x = b.tensor((2, 5), scale=0.05, zero_point=3)
    weights = np.arange(15).reshape(3, 5) % 7 - 3
    w = b.tensor((3, 5), scale=[0.01, 0.02, 0.03], zero_point=[4, 4, 4], data=weights, axis=0)
    y = b.tensor((2, 3), scale=0.01, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions", version=4)
    with pytest.raises(UnsupportedModelError, match="nonzero zero point"):
        validate_host(b.build([x], [y]), np.zeros((1, 2, 5), np.int8))
