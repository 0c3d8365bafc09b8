"""Training and int8 quantization end to end, plus the `train`/`quantize` CLI's error handling."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.check import reference
from tinypipe.cli import main
from tinypipe.compiler.graph import read_tflite
from tinypipe.errors import TinypipeError
from tinypipe.model.quantize import AccuracyDropError, quantize_model
from tinypipe.model.train import train_model


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """tiny_cnn trained on digits with the default settings (the demo's first stage)."""
    out = tmp_path_factory.mktemp("digits")
    result = train_model("digits", "tiny_cnn", out, seed=0, verbose=0, log=None)
    return out, result


def test_train_writes_a_batch1_model_and_metadata(digits_run) -> None:
    out, result = digits_run
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.keras", "x_test.npy", "y_test.npy"]
    # the test split as trained on, ready for `tinypipe validate --inputs`
    from tinypipe.model.datasets import load_dataset

    data = load_dataset("digits", seed=0)
    x, y = np.load(out / "x_test.npy"), np.load(out / "y_test.npy")
    assert x.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(x, data.x_test)
    np.testing.assert_array_equal(y, data.y_test)
    meta = json.loads((out / "model.json").read_text())
    assert meta["model"] == "tiny_cnn" and meta["dataset"]["name"] == "digits"
    assert meta["classes"] == [str(i) for i in range(10)] and meta["input_shape"] == [8, 8, 1]
    assert meta["dataset"]["train_samples"] == 1438 and meta["dataset"]["test_samples"] == 359
    assert meta["seed"] == 0 and meta["epochs"] == result.epochs
    assert meta["float_test_accuracy"] == pytest.approx(result.float_accuracy, abs=1e-6)
    assert result.float_accuracy >= 0.92
    assert meta["train_seconds"] > 0
    from tinypipe.model.zoo import import_keras

    model = import_keras().saving.load_model(out / "model.keras")
    assert tuple(model.inputs[0].shape) == (1, 8, 8, 1)


def test_digits_int8_accuracy_with_tflm_via_cli(digits_run, tmp_path) -> None:
    out, result = digits_run
    tflite = tmp_path / "model.tflite"
    res = CliRunner().invoke(
        main, ["quantize", str(out / "model.keras"), "-o", str(tflite), "--max-drop", "2.0"]
    )
    assert res.exit_code == 0, res.output
    assert "int8 accuracy (TFLM)" in res.output
    report = json.loads((tmp_path / "quant.json").read_text())
    assert report["int8_test_accuracy"] >= 0.90
    assert report["float_test_accuracy"] == pytest.approx(result.float_accuracy, abs=1e-6)
    assert report["accuracy_drop_points"] <= 2.0
    # Independent check: re-run the int8 model on TFLM against the same test split.
    from tinypipe.model.datasets import load_dataset

    data = load_dataset("digits", seed=0)
    g = read_tflite(tflite)
    tin = g.input_tensors[0]
    assert tin.dtype == "int8" and tin.shape == (1, 8, 8, 1)
    assert (report["input"]["scale"], report["input"]["zero_point"]) == (tin.scale, tin.zero_point)
    y = reference.run_tflm(
        tflite.read_bytes(), reference.quantize_input(data.x_test, tin.scale, tin.zero_point)
    )
    acc = float(np.mean(y.reshape(len(y), -1).argmax(axis=1) == data.y_test))
    assert acc == pytest.approx(report["int8_test_accuracy"], abs=1e-6)
    assert acc >= 0.90
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.tflite",
        "quant.json",
        "x_test.npy",
        "x_test_int8.npy",
        "y_test.npy",
    ]
    x_q = np.load(tmp_path / "x_test_int8.npy")
    assert x_q.dtype == np.int8 and x_q.shape == data.x_test.shape
    np.testing.assert_array_equal(x_q, reference.quantize_input(data.x_test, tin.scale, tin.zero_point))

    # the files tinypipe wrote validate bit-exact as they are: no user code in between
    for inputs in (tmp_path / "x_test_int8.npy", tmp_path / "x_test.npy"):
        res = CliRunner().invoke(main, ["validate", str(tflite), "--inputs", str(inputs)])
        assert res.exit_code == 0 and "BIT-EXACT" in res.output and "359 samples" in res.output, res.output


def test_max_drop_gate_fails_and_writes_nothing(digits_run, tmp_path, monkeypatch) -> None:
    out, _ = digits_run

    def broken_int8(model, inputs, arena_size=None):  # an int8 model that always says "0"
        y = np.full((len(inputs), 1, 10), -128, np.int8)
        y[..., 0] = 127
        return y

    monkeypatch.setattr(reference, "run_tflm", broken_int8)
    args = ["quantize", str(out / "model.keras"), "-o", str(tmp_path / "m.tflite")]
    res = CliRunner().invoke(main, [*args, "--max-drop", "1.5", "--samples", "20"])
    assert res.exit_code == AccuracyDropError.exit_code == 1
    assert isinstance(res.exception, SystemExit)
    err = res.stderr.strip()
    assert err.startswith("Error: ") and "\n" not in err
    assert "more than --max-drop 1.5" in err and "Nothing was written" in err
    assert list(tmp_path.iterdir()) == []


def test_training_is_reproducible(tmp_path) -> None:
    runs = [
        train_model("digits", "tiny_cnn", tmp_path / f"r{i}", epochs=2, seed=5, verbose=0, log=None)
        for i in range(2)
    ]
    other = train_model(
        "digits", "tiny_cnn", tmp_path / "r3", epochs=2, seed=6, verbose=0, log=None
    )
    from tinypipe.model.zoo import import_keras

    load = import_keras().saving.load_model
    w = [load(r.model_path).get_weights() for r in (*runs, other)]
    for a, b in zip(w[0], w[1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(w[0], w[2], strict=True))


def test_vibration_conv1d_train_and_quantize(tmp_path) -> None:
    res = train_model("vibration", "conv1d", tmp_path, epochs=8, seed=0, verbose=0, log=None)
    # mild faults, noise and sensor drift: well above chance (25 %), never perfect
    assert 0.7 <= res.float_accuracy < 1.0
    q = quantize_model(res.model_path, tmp_path / "model.tflite", max_drop=3.0, log=None)
    assert 0.7 <= q.int8_accuracy < 1.0 and q.drop_points <= 3.0
    assert q.report["dataset"]["classes"] == ["normal", "imbalance", "bearing_wear", "misalignment"]


def test_autoencoder_trains_and_quantizes(tmp_path) -> None:
    res = train_model(
        "vibration", "fc_autoencoder", tmp_path, epochs=2, seed=0, verbose=0, log=None
    )
    assert res.task == "autoencoder" and res.float_accuracy is None and res.float_mse > 0
    q = quantize_model(res.model_path, representative_samples=50, log=None)
    assert q.tflite_path == tmp_path / "model.tflite" and q.tflite_path.exists()
    assert q.int8_accuracy is None
    # Int8 reconstruction is close to the float model's.
    assert q.int8_mse < 1.5 * q.float_mse + 1e-3


def test_quantize_with_explicit_npz_dataset(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    data = tmp_path / "d.npz"
    np.savez(data, x=x, y=y)
    res = train_model(str(data), "mlp", tmp_path / "run", epochs=30, seed=0, verbose=0, log=None)
    (tmp_path / "run" / "model.json").unlink()  # a model brought without tinypipe metadata
    with pytest.raises(TinypipeError, match="Pass --dataset"):
        quantize_model(res.model_path, log=None)
    q = quantize_model(res.model_path, dataset=str(data), seed=0, log=None)
    assert q.int8_accuracy >= 0.85


def test_cli_train_picks_a_model_for_the_data(tmp_path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=(x[:, 0] > 0).astype(np.int64))
    out = tmp_path / "run"
    args = ["train", "--dataset", str(tmp_path / "d.npz"), "-o", str(out), "--epochs", "1"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "Using model mlp" in res.output and "Float test accuracy" in res.output
    assert json.loads((out / "model.json").read_text())["model"] == "mlp"
    # A second run into the same folder needs --force, and then overwrites.
    assert CliRunner().invoke(main, args).exit_code == 2
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0


# ---------------------------------------------------------------- CLI errors


def _assert_clean_error(res, *needles: str) -> None:
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit)
    err = res.stderr.strip()
    assert err.startswith("Error: ") and "\n" not in err  # one paragraph
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in err


def test_cli_unknown_dataset(tmp_path) -> None:
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main, ["train", "--dataset", "mnist", "--model", "tiny_cnn", "-o", str(out)]
    )
    _assert_clean_error(res, "Unknown dataset 'mnist'", "digits", "vibration", ".npz", ".csv")
    assert not out.exists()


def test_cli_unknown_model(tmp_path) -> None:
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main, ["train", "--dataset", "digits", "--model", "lenet", "-o", str(out)]
    )
    _assert_clean_error(res, "Unknown model 'lenet'", "tiny_cnn", "conv1d")
    assert not out.exists()


def test_cli_model_does_not_fit_data(tmp_path) -> None:
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main, ["train", "--dataset", "vibration", "--model", "tiny_cnn", "-o", str(out)]
    )
    _assert_clean_error(res, "expects image", "--model conv1d")
    assert not out.exists()


def test_cli_non_empty_output_without_force(tmp_path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    res = CliRunner().invoke(
        main, ["train", "--dataset", "digits", "--model", "tiny_cnn", "-o", str(out)]
    )
    _assert_clean_error(res, "is not empty", "--force")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_cli_missing_keras_file(tmp_path) -> None:
    res = CliRunner().invoke(
        main, ["quantize", str(tmp_path / "nope.keras"), "-o", str(tmp_path / "m.tflite")]
    )
    _assert_clean_error(res, "does not exist", "tinypipe train")
    assert list(tmp_path.iterdir()) == []


def test_cli_quantize_bad_inputs(tmp_path) -> None:
    bogus = tmp_path / "m.keras"
    bogus.write_bytes(b"not a zip")
    res = CliRunner().invoke(main, ["quantize", str(bogus), "-o", str(tmp_path / "m.tflite")])
    _assert_clean_error(res, "Pass --dataset")  # checked before TF loads the file
    res = CliRunner().invoke(
        main, ["quantize", str(bogus), "-o", str(tmp_path / "m.tflite"), "--dataset", "digits"]
    )
    _assert_clean_error(res, "Keras could not load")
    res = CliRunner().invoke(main, ["quantize", str(bogus), "-o", str(tmp_path / "m.bin")])
    _assert_clean_error(res, "should end in .tflite")
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]


@pytest.mark.slow
def test_digits_lstm_trains_quantizes_and_compiles_bit_exact(tmp_path) -> None:
    """The zoo's LSTM reads each digit row by row; the Keras 3 LSTM reaches the converter as
    one fused op, keeps its accuracy in int8 and compiles bit-exact with TFLM."""
    from tinypipe.check.validate import validate_host

    res = train_model("digits", "lstm", tmp_path, epochs=10, seed=0, verbose=0, log=None)
    assert res.float_accuracy >= 0.85
    q = quantize_model(res.model_path, tmp_path / "model.tflite", max_drop=3.0, log=None)
    assert q.int8_accuracy >= 0.85
    g = read_tflite(q.tflite_path)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in {op.opcode for op in g.operators}
    x = np.load(tmp_path / "x_test_int8.npy")[:24]
    verdict, _ = validate_host(g, x)
    assert verdict.bit_exact, verdict.summary()
