"""FULLY_CONNECTED: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized one-op models built directly (per-tensor and per-channel weights, asymmetric input
zero points and per-tensor weight zero points, with and without bias, every fused activation,
several rows, keep_num_dims, odd sizes), plus a model made by the real TF converter.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import ACTIVATIONS, build_fc, check_bit_exact, run_random_cases

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c, lower_all
from tinypipe.compiler.fully_connected_gen import dense_blob
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
    passes."""
    cfg = random_x4_fc_config(rng)
    cfg.update(
        in_features=int(rng.choice([4, 12, 36, 64, 128, 192])),
        out_features=int(rng.choice([8, 16, 24])),
    )
    return cfg


def build_dense_fc(cfg: dict, rng: np.random.Generator) -> bytes:
    """build_x4_fc, drawn again until the layer runs on a generated kernel."""
    for _ in range(50):
        model = build_x4_fc(cfg, rng)
        cm = generate_c(read_tflite(model))
        (k,) = [k for k, low in enumerate(cm.lowered) if low.emits_code]
        if [d.layers for d in cm.dense] == [[k]] and cm.lowered[k].func == cm.dense[0].name:
            return model
    raise AssertionError(f"no generated kernel for {cfg}")


@pytest.mark.parametrize("chunk", range(2))
def test_fc_generated_random_configs_bit_exact(chunk: int) -> None:
    """10 random layers on a generated kernel (its portable path here; the assembly runs in
    test_kernels_on_m4.py), every 3rd under ASan/UBSan."""
    run_random_cases(random_dense_fc_config, build_dense_fc, 3600 + 5 * chunk, 5)


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
