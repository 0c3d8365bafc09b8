"""`tinypipe optimize`: structured pruning, 4-bit weight clustering, quantization-aware training
and distillation, each measured as the device runs it (TFLM int8 accuracy, MACs, compiled
weight bytes, arena) and the results bit-exact against TFLM, on three datasets: digits,
vibration and scikit-learn's wine (as a user .npz file).

Training is the cost: models are tiny, epochs few, seeds fixed, and every trained or optimized
model is made once per test session, shared by the xdist workers through a locked folder.
"""

from __future__ import annotations

import fcntl
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tinypipe.check.validate import validate_host, validate_on_board
from tinypipe.compiler.graph import read_tflite

# dataset -> (zoo model, training epochs)
BASES = {"digits": ("tiny_cnn", 12), "vibration": ("conv1d", 4), "wine": ("mlp", 60)}
PRUNE = 0.5


@pytest.fixture(scope="session")
def shared(run_dir):
    """shared(key, make) -> Path: `make(folder)` runs once per session across xdist workers."""
    root = run_dir / "optimize-shared"
    root.mkdir(exist_ok=True)

    def get(key: str, make) -> Path:
        folder = root / key
        with open(root / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / "done").exists():
                folder.mkdir(exist_ok=True)
                make(folder)
                (folder / "done").write_text("")
        return folder

    return get


def _dataset_arg(name: str, root: Path) -> str:
    if name != "wine":
        return name
    from sklearn.datasets import load_wine

    path = root / "wine.npz"
    if not path.exists():
        x, y = load_wine(return_X_y=True)
        x = (x - x.mean(axis=0)) / x.std(axis=0)  # standardized features, as for any MLP
        np.savez(path, x=x.astype(np.float32), y=y)
    return str(path)


@pytest.fixture(scope="session")
def trained(shared):
    """trained(dataset) -> the folder of a small model trained on it (model.keras + model.json)."""

    def get(name: str) -> Path:
        from tinypipe.model.train import train_model

        model, epochs = BASES[name]

        def make(folder: Path) -> None:
            data = _dataset_arg(name, folder.parent)
            train_model(data, model, folder, epochs=epochs, force=True, verbose=0, log=None)

        return shared(f"train-{name}", make)

    return get


@pytest.fixture(scope="session")
def optimized(shared, trained):
    """optimized(dataset, **options) -> (folder, optimize.json) of `tinypipe optimize`."""

    def get(name: str, **kw) -> tuple[Path, dict]:
        from tinypipe.model.optimize import OptimizeOptions, optimize_model

        key = f"opt-{name}-" + "-".join(f"{k}{v}" for k, v in sorted(kw.items()))

        def make(folder: Path) -> None:
            opts = OptimizeOptions(epochs=2, **kw)
            optimize_model(trained(name) / "model.keras", folder, options=opts, force=True, log=None)

        folder = shared(key, make)
        return folder, json.loads((folder / "optimize.json").read_text())

    return get


def _test_inputs(folder: Path, n: int = 24) -> np.ndarray:
    from tinypipe.check.reference import quantize_input
    from tinypipe.model.datasets import load_dataset

    report = json.loads((folder / "optimize.json").read_text())
    data = load_dataset(report["dataset"]["name"], seed=report["dataset"]["seed"])
    tin = read_tflite(folder / "model.tflite").input_tensors[0]
    return quantize_input(data.x_test[:n], tin.scale, tin.zero_point)


def _bit_exact_on_host(folder: Path) -> None:
    verdict, _ = validate_host(folder / "model.tflite", _test_inputs(folder), sanitize=True)
    assert verdict.bit_exact, verdict.summary()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BASES))
def test_prune_shrinks_macs_and_weights_by_the_fraction(name: str, optimized) -> None:
    folder, report = optimized(name, prune=PRUNE)
    base, final = report["baseline"], report["final"]
    # Removing F of the channels of a layer removes F of its MACs and weights, and F of what
    # remains where its input was pruned too: between F and 1 - (1 - F)^2 of the prunable part.
    for key in ("macs", "compiled_weight_bytes"):
        kept = final[key] / base[key]
        assert (1 - PRUNE) ** 2 - 0.02 <= kept <= 1 - 0.8 * PRUNE, (key, base[key], final[key])
    assert final["arena_bytes"] <= base["arena_bytes"]
    assert final["int8_accuracy"] >= base["int8_accuracy"] - 0.25, (base, final)
    _bit_exact_on_host(folder)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BASES))
def test_cluster_16_packs_weights_in_4_bits(name: str, optimized) -> None:
    folder, report = optimized(name, cluster=16)
    base, final = report["baseline"], report["final"]
    assert final["packed_layers"] >= 2
    assert final["compiled_weight_bytes"] <= 0.6 * base["compiled_weight_bytes"], (base, final)
    assert final["macs"] == base["macs"]
    assert final["int8_accuracy"] >= base["int8_accuracy"] - 0.05, (base, final)
    # The .tflite stays plain int8 for TFLM: at most 16 values per output channel.
    g = read_tflite(folder / "model.tflite")
    for op in g.operators:
        if op.opcode in ("CONV_2D", "FULLY_CONNECTED"):
            w = g.tensors[op.inputs[1]]
            assert w.dtype == "int8"
            rows = w.data.reshape(w.shape[0], -1)
            assert max(np.unique(r).size for r in rows) <= 16
    _bit_exact_on_host(folder)


@pytest.mark.slow
@pytest.mark.qemu
def test_optimized_models_bit_exact_on_mps2_an386(optimized) -> None:
    """The pruned and the 4-bit clustered digits models, on the emulated Cortex-M4."""
    for kw in ({"prune": PRUNE}, {"cluster": 16}):
        folder, _ = optimized("digits", **kw)
        graph = read_tflite(folder / "model.tflite")
        verdict, _ = validate_on_board(graph, _test_inputs(folder, 8), "mps2-an386")
        assert verdict.bit_exact, verdict.summary()
        assert verdict.instructions and min(verdict.instructions) > 0


def _inflate_one_unit(model, factor: float) -> None:
    """Scale one unit of the first hidden Dense layer up by `factor` and its outgoing weights
    down by as much: the float function is unchanged (ReLU is positively homogeneous), but the
    layer's int8 output range is now `factor` times wider, so post-training quantization leaves
    the other units only a few levels. A model PTQ handles badly, by construction."""
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    first, second = dense[0], dense[1]
    k1, b1 = first.get_weights()
    unit = int(np.argmax(np.abs(k1).sum(axis=0)))
    k1[:, unit] *= factor
    b1[unit] *= factor
    first.set_weights([k1, b1])
    k2, b2 = second.get_weights()
    k2[unit, :] /= factor
    second.set_weights([k2, b2])


@pytest.mark.slow
def test_qat_recovers_accuracy_that_ptq_loses(shared) -> None:
    from tinypipe.model.optimize import OptimizeOptions, optimize_model
    from tinypipe.model.train import train_model
    from tinypipe.model.zoo import import_keras

    def make(folder: Path) -> None:
        res = train_model("digits", "mlp", folder / "mlp", epochs=8, verbose=0, log=None)
        keras = import_keras()
        model = keras.saving.load_model(res.model_path, compile=False)
        _inflate_one_unit(model, 300.0)
        model.save(res.model_path)
        opts = OptimizeOptions(qat=True, epochs=3)
        optimize_model(res.model_path, folder / "qat", options=opts, force=True, log=None)

    folder = shared("qat-digits-mlp", make) / "qat"
    report = json.loads((folder / "optimize.json").read_text())
    base, final = report["baseline"], report["final"]
    assert base["float_accuracy"] - base["int8_accuracy"] >= 0.05, base  # PTQ loses
    assert final["int8_accuracy"] >= base["int8_accuracy"] + 0.03, (base, final)
    _bit_exact_on_host(folder)


# Distillation as it pays off in practice: a teacher trained on every label of the digits
# training split (the tiny_cnn above) labels inputs the student has no labels for. The student,
# an mlp, has the labels of KD_LABELLED of that split; alone it can learn only from those.
KD_LABELLED = 0.05
KD_SEEDS = (0, 1, 2)  # the labelled subset and every initialization and shuffle
KD = {"temperature": 4.0, "epochs": 10}
KD_STUDENT_EPOCHS = 300


def _scarce_labels(seed: int, folder: Path):
    """digits (the teacher's split) keeping the labels of KD_LABELLED of the training split,
    stratified by `seed`; the other training inputs go to folder/unlabelled.npy, unlabelled."""
    import dataclasses

    from tinypipe.model.datasets import load_dataset, stratified_split

    data = load_dataset("digits")
    _, kept = stratified_split(data.y_train, KD_LABELLED, seed)
    rest = np.setdiff1d(np.arange(len(data.y_train)), kept)
    np.save(folder / "unlabelled.npy", data.x_train[rest])
    return dataclasses.replace(data, x_train=data.x_train[kept], y_train=data.y_train[kept])


@pytest.fixture(scope="session")
def scarce_label_students(shared, trained):
    """seed -> folder: student/ (the mlp trained on the scarce labels), then from it, with the
    same fine-tuning schedule, alone/ (distill weight 0: the labels only) and distilled/ (the
    labels plus the teacher's outputs on them and on unlabelled.npy)."""
    from tinypipe.model.optimize import OptimizeOptions, optimize_model
    from tinypipe.model.train import train_model

    teacher = trained("digits") / "model.keras"

    def get(seed: int) -> Path:
        def make(folder: Path) -> None:
            data = _scarce_labels(seed, folder)
            res = train_model(data, "mlp", folder / "student", epochs=KD_STUDENT_EPOCHS,
                              seed=seed, verbose=0, log=None)  # fmt: skip
            arms = {
                "alone": {"distill_weight": 0.0},
                "distilled": {"distill_weight": 0.7, "distill_inputs": folder / "unlabelled.npy"},
            }
            for label, kw in arms.items():
                opts = OptimizeOptions(distill_from=teacher, seed=seed, **KD, **kw)
                optimize_model(res.model_path, folder / label, dataset=data, options=opts,
                               force=True, log=None)  # fmt: skip

        return shared(f"distill-scarce-labels-{seed}", make)

    return get


@pytest.mark.slow
def test_distillation_with_unlabelled_inputs_beats_the_student_alone(
    scarce_label_students, trained
) -> None:
    """int8 accuracy on the TFLM interpreter over the digits test split, per seed: the student
    trained alone (the baseline of either run), fine-tuned alone on its labels, and distilled.
    Measured: alone 78.6 to 83.6 % across the seeds (a 5-point spread), distilled 91.1 to
    91.9 %, 8.4 to 12.5 points above the same seed's student alone (README). Asked for: every
    seed at least 6 points up, and the worst distilled seed 4 points above the best alone one.
    """
    from tinypipe.model.datasets import load_dataset
    from tinypipe.model.quantize import _load_keras

    gains, alone_all, distilled_all = [], [], []
    for seed in KD_SEEDS:
        folder = scarce_label_students(seed)
        alone = json.loads((folder / "alone" / "optimize.json").read_text())
        report = json.loads((folder / "distilled" / "optimize.json").read_text())
        assert report["transfer_samples"] > 5 * report["dataset"]["train_samples"]
        assert report["options"]["distill_inputs"] == "unlabelled.npy"
        best_alone = max(report["baseline"]["int8_accuracy"], alone["final"]["int8_accuracy"])
        gains.append(report["final"]["int8_accuracy"] - best_alone)
        alone_all.append(best_alone)
        distilled_all.append(report["final"]["int8_accuracy"])
    assert min(gains) >= 0.06, (alone_all, distilled_all)
    assert min(distilled_all) - max(alone_all) >= 0.04, (alone_all, distilled_all)

    # The distilled student took after its teacher: closer outputs on the test split.
    folder = scarce_label_students(KD_SEEDS[0])
    x = load_dataset("digits").x_test
    p_teacher = np.asarray(_load_keras(trained("digits") / "model.keras")(x))
    p_teacher = np.clip(p_teacher, 1e-7, 1.0)

    def kl_to_teacher(label: str) -> float:
        p = np.clip(np.asarray(_load_keras(folder / label / "model.keras")(x)), 1e-7, 1.0)
        return float(np.mean(np.sum(p_teacher * (np.log(p_teacher) - np.log(p)), axis=1)))

    assert kl_to_teacher("distilled") < 0.5 * kl_to_teacher("alone")
    _bit_exact_on_host(folder / "distilled")


@pytest.mark.slow
@pytest.mark.qemu
def test_distilled_student_bit_exact_on_mps2_an386(scarce_label_students) -> None:
    folder = scarce_label_students(KD_SEEDS[0]) / "distilled"
    graph = read_tflite(folder / "model.tflite")
    verdict, _ = validate_on_board(graph, _test_inputs(folder, 8), "mps2-an386")
    assert verdict.bit_exact, verdict.summary()
    assert verdict.instructions and min(verdict.instructions) > 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["--prune", "1.5"], "--prune 1.5"),
        (["--cluster", "40"], "--cluster 40"),
        (["--temperature", "0"], "--temperature 0"),
        ([], "does not exist"),
        (["--distill-from", "nope.keras", "--board", "nosuchboard"], "nosuchboard"),
        (["--distill-inputs", "pool.npy"], "--distill-inputs pool.npy without --distill-from"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(tmp_path, args, message) -> None:
    from click.testing import CliRunner

    from tinypipe.cli import main

    model = tmp_path / "missing.keras"
    out = tmp_path / "opt"
    res = CliRunner().invoke(main, ["optimize", str(model), "-o", str(out), *args])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert message in res.output
    assert not out.exists()


def test_distill_inputs_are_checked(tmp_path) -> None:
    from tinypipe.errors import TinypipeError
    from tinypipe.model.distill import load_transfer_inputs

    good = np.random.default_rng(0).random((5, 8, 8, 1)).astype(np.float64)
    np.save(tmp_path / "good.npy", good)
    np.savez(tmp_path / "good.npz", x=good, y=np.zeros(5))
    for name in ("good.npy", "good.npz"):
        x = load_transfer_inputs(tmp_path / name, (8, 8, 1))
        assert x.dtype == np.float32 and np.array_equal(x, good.astype(np.float32))
    nan = good.copy()
    nan[2, 3, 3, 0] = np.nan
    bad = {
        "nan.npy": nan,
        "flat.npy": good.reshape(5, 64),
        "empty.npy": good[:0],
        "text.npy": np.array(["a", "b"]),
    }
    for name, arr in bad.items():
        np.save(tmp_path / name, arr)
    np.savez(tmp_path / "nox.npz", inputs=good)
    (tmp_path / "junk.npy").write_bytes(b"not an array")
    (tmp_path / "pool.csv").write_text("1,2\n")
    cases = {
        "missing.npy": "do not exist",
        "pool.csv": "not a .npy or .npz",
        "junk.npy": "could not be read",
        "nox.npz": "no array `x`",
        "text.npy": "not a numeric array",
        "nan.npy": "NaN",
        "flat.npy": "shape (5, 64)",
        "empty.npy": "shape (0, 8, 8, 1)",
    }
    for name, message in cases.items():
        with pytest.raises(TinypipeError, match=re.escape(message)) as err:
            load_transfer_inputs(tmp_path / name, (8, 8, 1))
        assert "(samples, 8, 8, 1)" in err.value.fix, name


def test_run_refuses_missing_distillation_files(tmp_path) -> None:
    """`tinypipe run` names a missing [optimize] file before it trains or writes anything."""
    from click.testing import CliRunner

    from tinypipe.cli import main

    (tmp_path / "teacher.keras").write_bytes(b"")
    np.save(tmp_path / "pool.npy", np.zeros((2, 8, 8, 1), np.float32))
    toml = tmp_path / "tinypipe.toml"
    for key, missing in (("distill_from", "gone.keras"), ("distill_inputs", "gone.npy")):
        files = {"distill_from": "teacher.keras", "distill_inputs": "pool.npy", key: missing}
        toml.write_text("[optimize]\n" + "".join(f'{k} = "{v}"\n' for k, v in files.items()))
        res = CliRunner().invoke(main, ["run", str(toml)])
        assert res.exit_code == 2, res.output
        assert f"[optimize] {key} = '{missing}' does not exist" in res.output
        assert str(tmp_path / missing) in res.output
        assert not (tmp_path / "out").exists()
    toml.write_text('[optimize]\ndistill_inputs = "pool.npy"\n')
    res = CliRunner().invoke(main, ["run", str(toml)])
    assert res.exit_code == 2 and "without --distill-from" in res.output, res.output
    assert not (tmp_path / "out").exists()


def test_tradeoff_section_and_plot(tmp_path) -> None:
    """The report's Lightweighting table and plot from an optimize result (figures given)."""
    from tinypipe.pipeline.tradeoff import tradeoff_markdown, tradeoff_plot

    def step(name, acc, flash, ram, instr, fits=True):
        board = {"fits": fits, "estimated": not fits, "bit_exact": True if fits else None,
                 "flash_used": flash, "flash_size": 262144, "ram_used": ram, "ram_size": 16384,
                 "instructions": instr}  # fmt: skip
        return {"step": name, "float_accuracy": acc, "int8_accuracy": acc - 0.01, "macs": 1000,
                "compiled_weight_bytes": flash // 10, "packed_layers": 0, "arena_bytes": ram // 2,
                "boards": {"microbit": board}}  # fmt: skip

    opt = {"board": "microbit", "train_seconds": 3.0, "steps": [
        step("baseline", 0.95, 40000, 19000, None, fits=False),
        step("prune 0.5", 0.93, 30000, 9000, 1234567)]}  # fmt: skip
    text = "\n".join(tradeoff_markdown(opt))
    assert "| baseline | 95.00 % | 94.00 % |" in text
    assert "19,000 (est.) | - | **NO** | - |" in text
    assert "| 30,000 | 9,000 | 1,234,567 | yes | yes |" in text
    assert "microbit budget: flash 262,144 B, RAM 16,384 B." in text
    png = tradeoff_plot(opt, tmp_path / "t.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_optimize_section_of_tinypipe_toml(tmp_path) -> None:
    from tinypipe.errors import TinypipeError
    from tinypipe.pipeline.config import load_config

    toml = tmp_path / "tinypipe.toml"
    toml.write_text('[deploy]\nboards = ["host", "microbit"]\n')
    assert not load_config(toml).optimizing
    toml.write_text(
        '[optimize]\nprune = 0.5\ncluster = 16\nqat = true\ndistill_from = "t/teacher.keras"\n'
        'distill_inputs = "t/pool.npy"\nepochs = 2\n'
    )
    cfg = load_config(toml)
    assert cfg.optimizing
    opts = cfg.optimize_options(["microbit"])
    assert (opts.prune, opts.cluster, opts.qat, opts.epochs) == (0.5, 16, True, 2)
    assert opts.distill_from == (tmp_path / "t" / "teacher.keras").resolve()
    assert opts.distill_inputs == (tmp_path / "t" / "pool.npy").resolve()
    assert opts.boards == ["microbit"]
    toml.write_text('[optimize]\nqat = "yes"\n')
    with pytest.raises(TinypipeError, match="qat"):
        load_config(toml)
    toml.write_text('[optimize]\nprune = 0.5\n[quantize]\nactivations = "int16"\n')
    with pytest.raises(TinypipeError, match="full-int8"):
        load_config(toml)
    toml.write_text("[optimize]\nprunning = 0.5\n")
    with pytest.raises(TinypipeError, match="prunning"):
        load_config(toml)
