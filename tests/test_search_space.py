"""The search space of `tinypipe search` (no Ray, no training): zoo knobs, input resampling,
candidate ids, the Pareto front, and clear refusals of bad [search] sections."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.cli import main
from tinypipe.errors import TinypipeError
from tinypipe.model.datasets import resample
from tinypipe.model.zoo import build_model, check_knobs
from tinypipe.pipeline.pareto import pareto_front
from tinypipe.pipeline.search_space import Candidate, draw, parse_space


def _layers(model, kind: str) -> list:
    return [layer for layer in model.layers if type(layer).__name__ == kind]


@pytest.mark.slow  # builds Keras models (imports TensorFlow)
def test_knobs_shape_the_zoo_models():
    base = build_model("tiny_cnn", (8, 8, 1), 10)
    wide = build_model("tiny_cnn", (8, 8, 1), 10, knobs={"width": 0.5, "blocks": 2, "kernel": 5})
    assert [c.filters for c in _layers(base, "Conv2D")] == [8, 16]
    assert [c.filters for c in _layers(wide, "Conv2D")] == [4, 8, 8]
    assert [d.kernel_size for d in _layers(wide, "DepthwiseConv2D")] == [(5, 5), (5, 5)]
    assert [d.units for d in _layers(wide, "Dense")] == [16, 10]
    mlp = build_model("mlp", (64,), 10, knobs={"width": 2.0, "depth": 3})
    assert [d.units for d in _layers(mlp, "Dense")] == [64, 32, 32, 10]
    c1 = build_model("conv1d", (64, 3), 4, knobs={"blocks": 2, "kernel": 3})
    assert [(c.filters, c.kernel_size) for c in _layers(c1, "Conv1D")] == [(16, (3,)), (32, (3,))]
    default = build_model("conv1d", (64, 3), 4)
    assert [c.kernel_size[0] for c in _layers(default, "Conv1D")] == [7, 5, 3]


@pytest.mark.parametrize(
    "name, knobs, match",
    [
        ("mlp", {"kernel": 3}, "has no knob"),
        ("tiny_cnn", {"width": 0}, "width = 0"),
        ("tiny_cnn", {"blocks": 1.5}, "blocks = 1.5"),
        ("tiny_cnn", {"kernel": True}, "kernel = True"),
        ("fc_autoencoder", {"width": 1.0}, "no knob"),
    ],
)
def test_bad_knobs_are_refused(name, knobs, match):
    with pytest.raises(TinypipeError, match=match):
        check_knobs(name, knobs)


def test_resample_is_linear_between_pixel_centres():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 10, 2)).astype(np.float32)  # windows: 10 steps, 2 channels
    y = resample(x, 7)
    centres = (np.arange(7) + 0.5) * 10 / 7 - 0.5  # output centres in input coordinates
    for n in range(3):
        for ch in range(2):
            np.testing.assert_allclose(
                y[n, :, ch], np.interp(centres, np.arange(10), x[n, :, ch]), rtol=1e-6
            )
    img = rng.normal(size=(2, 8, 8, 1)).astype(np.float32)
    np.testing.assert_array_equal(resample(img, 8), img)
    up = resample(img, 16)
    assert up.shape == (2, 16, 16, 1)
    # Separable: heights first, then widths, each by np.interp.
    c16 = (np.arange(16) + 0.5) * 8 / 16 - 0.5
    grid = np.arange(8)
    heights = np.stack([np.interp(c16, grid, img[1, :, w, 0]) for w in range(8)], axis=1)
    both = np.stack([np.interp(c16, grid, heights[h]) for h in range(16)])
    np.testing.assert_allclose(up[1, :, :, 0], both, rtol=1e-5, atol=1e-6)


def test_space_is_every_combination_with_stable_ids():
    search = {
        "models": {"tiny_cnn": {"width": [0.5, 1.0], "input_size": [8, 12]}, "mlp": {"depth": 1}},
        "optimize": {"prune": [0.0, 0.5], "qat": [False]},
    }
    space = parse_space(search, "tiny_cnn")
    assert len(space) == (2 * 2 + 1) * 2
    assert space[0] == Candidate("tiny_cnn", {"width": 0.5}, 8, 0.0, 0, False)
    assert Candidate("mlp", {"depth": 1}, 0, 0.5) in space
    ids = [c.trial_id({"seed": 0}) for c in space]
    assert len(set(ids)) == len(ids) and all(len(i) == 12 for i in ids)
    assert ids == [c.trial_id({"seed": 0}) for c in parse_space(search, "tiny_cnn")]
    assert ids[0] != space[0].trial_id({"seed": 1})
    picked = draw(space, 4, seed=3)
    assert len(picked) == 4 and picked == draw(space, 4, seed=3)
    assert [space.index(c) for c in picked] == sorted(space.index(c) for c in picked)
    assert draw(space, 0, seed=3) == space
    # No [search.models]: the [model] family with its default architecture.
    assert parse_space({}, "mlp") == [Candidate("mlp")]


@pytest.mark.parametrize(
    "search, match",
    [
        ({"models": {"vgg": {}}}, "Unknown model 'vgg'"),
        ({"models": {"fc_autoencoder": {}}}, "classifiers"),
        ({"models": {"mlp": {"kernel": [3]}}}, "unknown knob"),
        ({"models": {"mlp": {"width": []}}}, "no values"),
        ({"models": {"tiny_cnn": {"input_size": [0]}}}, "input_size = 0"),
        ({"optimize": {"prune": [1.5]}}, "--prune 1.5"),
        ({"optimize": {"cluster": [40]}}, "--cluster 40"),
        ({"optimize": {"qat": ["yes"]}}, "qat = \\[true/false\\]"),
        ({"optimize": {"distill": [True]}}, "unknown key"),
    ],
)
def test_bad_spaces_are_refused(search, match):
    with pytest.raises(TinypipeError, match=match):
        parse_space(search, "tiny_cnn")


def test_pareto_front_keeps_the_undominated():
    # (-accuracy, instructions, flash, ram)
    points = [(-0.9, 100, 10, 5), (-0.8, 50, 10, 5), (-0.8, 60, 10, 5), (-0.95, 200, 20, 9),
              (-0.9, 100, 10, 5)]  # fmt: skip
    assert pareto_front(points) == [0, 1, 3, 4]  # 2 is beaten by 1; equal points both stay


@pytest.mark.parametrize(
    "section, match",
    [
        ("[search]\n", "needs a board"),
        ('[search]\nboard = "host"\n', "cannot be measured"),
        ('[search]\nboard = "nope"\n', "Unknown board"),
        ('[search]\nboard = "microbit"\nepochs = 0\n', "epochs = 0 is out of range"),
        (
            'inputs = "x.npy"\n[model]\ntflite = "m.tflite"\n[search]\nboard = "microbit"\n',
            "trains its own",
        ),
        ('[search]\nboard = "microbit"\n[search.models.mlp]\nwidth = "wide"\n', "width = 'wide'"),
    ],
)
def test_search_cli_refuses_bad_config(tmp_path, section, match):
    cfg = tmp_path / "tinypipe.toml"
    cfg.write_text('[data]\ndataset = "digits"\n' + section)
    (tmp_path / "m.tflite").write_bytes(b"")  # files a section may name
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8, 1), np.float32))
    res = CliRunner().invoke(main, ["search", str(cfg)])
    assert res.exit_code == 2, res.output
    assert match in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()
