"""Zoo: every model builds on a batch-1 input and converts to builtin int8 ops tinypipe supports."""

from __future__ import annotations

import numpy as np
import pytest

from tinypipe.check.reference import quantize_input, run_tflm
from tinypipe.compiler.graph import read_tflite
from tinypipe.errors import TinypipeError
from tinypipe.model import zoo

EXPECTED = {
    # name: (input shape, output shape) of the default (reference) configuration
    "tiny_cnn": ((1, 8, 8, 1), (1, 10)),
    "ds_cnn": ((1, 49, 10, 1), (1, 12)),
    "mobilenet_v1": ((1, 96, 96, 3), (1, 2)),
    "resnet8": ((1, 32, 32, 3), (1, 10)),
    "fc_autoencoder": ((1, 640), (1, 640)),
    "conv1d": ((1, 128, 3), (1, 4)),
    "mlp": ((1, 16), (1, 2)),
    "lstm": ((1, 128, 3), (1, 4)),
    "svdf": ((1, 49, 10), (1, 12)),
}


def test_registry_lists_every_model() -> None:
    assert set(zoo.MODELS) == set(EXPECTED)
    for name, builder in zoo.MODELS.items():
        assert callable(builder) and zoo.model_info(name).builder is builder


@pytest.mark.parametrize("name", list(EXPECTED))
def test_zoo_model_converts_to_supported_int8_ops(name) -> None:
    tflite = zoo.make_int8_model(name, samples=4, seed=1)
    g = read_tflite(tflite)
    ops = g.distinct_ops()
    assert set(ops) <= zoo.SUPPORTED_INT8_OPS, (
        f"{name}: {sorted(set(ops) - zoo.SUPPORTED_INT8_OPS)}"
    )
    # A fixed batch of 1 means no SHAPE/STRIDED_SLICE/PACK ops and static shapes throughout.
    assert all(-1 not in (t.shape_signature or ()) for t in g.tensors)
    tin, tout = g.input_tensors[0], g.output_tensors[0]
    assert (tin.shape, tout.shape) == EXPECTED[name]
    assert tin.dtype == tout.dtype == "int8"
    # Weights are int8 (full-integer quantization, no float left behind; the converter's LSTM
    # lists empty float placeholders as intermediates, which hold nothing).
    assert all(t.dtype != "float32" for t in g.tensors if t.size)


def test_architectures_match_the_references() -> None:
    keras = zoo.import_keras()
    L = keras.layers

    def count(model, cls):
        return sum(isinstance(layer, cls) for layer in model.layers)

    m = zoo.build_model("ds_cnn")
    assert count(m, L.DepthwiseConv2D) == 4 and count(m, L.Conv2D) == 5
    assert all(not layer.use_bias for layer in m.layers if isinstance(layer, L.Conv2D))
    assert m.get_layer(index=-3).input.shape[1:3] == (1, 1)  # pooled over the 25x5 map
    r = zoo.build_model("resnet8")
    assert count(r, L.Add) == 3 and count(r, L.Conv2D) == 9  # 1 + 3*2 + 2 projections
    ae = zoo.build_model("fc_autoencoder")
    units = [layer.units for layer in ae.layers if isinstance(layer, L.Dense)]
    assert units == [128] * 4 + [8] + [128] * 4 + [640]
    t = zoo.build_model("tiny_cnn")
    assert t.count_params() == 2714
    assert zoo.build_model("mobilenet_v1").inputs[0].shape == (1, 96, 96, 3)


def test_models_accept_other_input_shapes() -> None:
    assert zoo.build_model("tiny_cnn", (28, 28, 1), 3).outputs[0].shape == (1, 3)
    assert zoo.build_model("conv1d", (64, 6), 5).outputs[0].shape == (1, 5)
    assert zoo.build_model("resnet8", (16, 16, 1), 4).outputs[0].shape == (1, 4)
    # The autoencoder flattens multi-axis windows and gives them back in the same shape.
    assert zoo.build_model("fc_autoencoder", (128, 3)).outputs[0].shape == (1, 128, 3)
    free = zoo.build_model("tiny_cnn", batch_size=None)
    assert free.inputs[0].shape[0] is None


def test_unknown_model_lists_valid_names() -> None:
    with pytest.raises(TinypipeError) as err:
        zoo.build_model("vgg16")
    msg = err.value.message
    assert "Unknown model 'vgg16'" in msg
    for name in EXPECTED:
        assert name in msg


def test_wrong_input_rank_suggests_a_model() -> None:
    with pytest.raises(TinypipeError, match=r"expects image .* shape \(128, 3\).*--model conv1d"):
        zoo.build_model("tiny_cnn", (128, 3), 4)
    with pytest.raises(TinypipeError, match="--model tiny_cnn"):
        zoo.build_model("conv1d", (8, 8, 1), 10)


def test_convert_int8_wraps_a_free_batch_model_and_runs_on_tflm() -> None:
    keras = zoo.import_keras()
    keras.utils.set_random_seed(0)
    model = zoo.build_model("conv1d", (32, 2), 3, batch_size=None)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 32, 2)).astype(np.float32)
    tflite = zoo.convert_int8(model, x)
    g = read_tflite(tflite)
    assert g.input_tensors[0].shape == (1, 32, 2)
    tin, tout = g.input_tensors[0], g.output_tensors[0]
    y = run_tflm(tflite, quantize_input(x, tin.scale, tin.zero_point)).reshape(6, 3)
    probs = (y.astype(np.float32) - tout.zero_point) * tout.scale
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=0.02)  # still a softmax
    np.testing.assert_allclose(probs, np.asarray(model(x)), atol=0.05)


def test_convert_int8_needs_samples() -> None:
    model = zoo.build_model("mlp", (4,), 2)
    with pytest.raises(TinypipeError, match="representative"):
        zoo.convert_int8(model, np.zeros((0, 4), np.float32))


def test_conversion_is_deterministic() -> None:
    # Same model, same bytes, even when built twice in one process (layer names included).
    assert zoo.make_int8_model("mlp", seed=3) == zoo.make_int8_model("mlp", seed=3)
    assert zoo.make_int8_model("resnet8", samples=2) == zoo.make_int8_model("resnet8", samples=2)
    assert zoo.make_int8_model("mlp", seed=3) != zoo.make_int8_model("mlp", seed=4)
