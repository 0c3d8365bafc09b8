"""Weight layouts under a flash budget (compiler/flash_budget.py): layers go from int16-expanded
back to int8 weights, fewest instructions saved per extra byte first, until the firmware's
estimated flash fits; results stay bit-exact with TFLM; a budget no layout meets is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.check.validate import validate_host, validate_on_board
from tinypipe.cli import main
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.flash_budget import INSTRUCTIONS_PER_MAC, parse_flash_budget
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.device.firmware import create_project
from tinypipe.errors import DoesNotFitError, TinypipeError
from tinypipe.model.zoo import REFERENCE_MODELS

# (kind, output channels, kernel, stride, output size): 8x8x8 in, each layer on int16 weights
# by default (channels in fours, filter rows of whole words, at least 16 output pixels)
LAYERS = [
    ("conv", 16, 3, 1, 8),
    ("depthwise", 16, 3, 1, 8),
    ("pointwise", 32, 1, 1, 8),
    ("conv", 16, 3, 2, 4),
]


def conv_chain(seed: int = 0) -> bytes:
    """LAYERS as CONV_2D / DEPTHWISE_CONV_2D with per-channel int8 weights in [-127, 127],
    int32 biases and RELU, on an 8x8x8 int8 input."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.tensor((1, 8, 8, 8), scale=0.05, zero_point=-3)
    y, in_c = x, 8
    for kind, out_c, k, stride, size in LAYERS:
        depthwise = kind == "depthwise"
        shape = (1, k, k, out_c) if depthwise else (out_c, k, k, in_c)
        taps = int(np.prod(shape)) // out_c
        w_scale = rng.uniform(0.5, 1.5, out_c) * 0.004
        zeros = np.zeros(out_c, np.int64)
        w = b.tensor(shape, scale=w_scale, zero_point=zeros, axis=3 if depthwise else 0,
                     data=rng.integers(-127, 128, shape))  # fmt: skip
        bias = b.tensor((out_c,), "int32", scale=w_scale * 0.05, zero_point=zeros,
                        data=rng.integers(-3000, 3000, out_c))  # fmt: skip
        out = b.tensor((1, size, size, out_c), scale=0.015 * np.sqrt(taps),
                       zero_point=int(rng.integers(-20, 20)))  # fmt: skip
        opts = {"padding": "SAME", "stride_h": stride, "stride_w": stride,
                "fused_activation_function": "RELU"}  # fmt: skip
        if depthwise:
            b.op("DEPTHWISE_CONV_2D", [y, w, bias], [out], "DepthwiseConv2DOptions", version=3,
                 depth_multiplier=1, **opts)  # fmt: skip
        else:
            b.op("CONV_2D", [y, w, bias], [out], "Conv2DOptions", version=3, **opts)
        y, in_c = out, out_c
    return b.build([x], [y])


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("chain") / "chain.tflite"
    path.write_bytes(conv_chain())
    return path


def expected_layers(cpu: str = "cortex-m4") -> list[dict]:
    """Per layer, from the shapes alone: MACs; extra flash of int16 weights (one more byte per
    weight, and 16 B of bias + requantization records per channel instead of 12 B of bias,
    multiplier and shift); instructions saved (MACs x the per-MAC difference)."""
    rows, in_c = [], 8
    for kind, out_c, k, _, size in LAYERS:
        taps = k * k * (1 if kind == "depthwise" else in_c)
        macs = size * size * out_c * taps
        int8, int16 = INSTRUCTIONS_PER_MAC[cpu][kind]
        rows.append({"macs": macs, "extra": out_c * taps + 4 * out_c,
                     "saved": round(macs * (int8 - int16))})  # fmt: skip
        in_c = out_c
    return rows


def test_layers_priced_and_ranked(chain: Path) -> None:
    """With no budget every layer keeps int16 weights; the report's figures are the shapes'."""
    cm = generate_c(read_tflite(chain))
    rows = expected_layers()
    got = [(x.op, x.macs, x.extra_bytes, x.instructions_saved, x.int16) for x in cm.layouts.layers]
    assert got == [(k, r["macs"], r["extra"], r["saved"], True) for k, r in enumerate(rows)]
    assert cm.layouts.summary() == (
        f"Weights: 4 layers int16 (+{sum(r['extra'] for r in rows):,} B flash, "
        f"~{sum(r['saved'] for r in rows) / 1000:.1f}k Cortex-M4 instructions saved)"
    )
    table = cm.layouts.table().splitlines()
    assert len(table) == 5 and table[4].split() == [
        "3", "CONV_2D", f"{rows[3]['macs']:,}", "int16", f"{rows[3]['extra']:,}", f"{rows[3]['saved']:,}"
    ]  # fmt: skip


def _ranking(cpu: str = "cortex-m4") -> list[int]:
    rows = expected_layers(cpu)
    return sorted(range(len(rows)), key=lambda k: (rows[k]["saved"] / rows[k]["extra"], -k))


def test_budget_takes_layers_to_int8_in_ranking_order(chain: Path) -> None:
    """A budget one byte under what the model takes sends one more layer to int8 weights each
    time, in the ranking's order; the flash saved is their extra bytes. One byte under the last
    (every layer on int8 weights) is refused."""
    g = read_tflite(chain)
    full = generate_c(g)
    rows, ranking = expected_layers(), _ranking()
    assert ranking == [3, 0, 2, 1]  # 16, 60, 70 and 144 instructions saved per byte
    cm = full
    for n in range(1, len(ranking) + 1):
        budget = cm.flash_estimate - 1
        cm = generate_c(g, flash_budget=budget)
        assert {x.op for x in cm.layouts.int8} == set(ranking[:n])
        assert cm.flash_estimate <= budget
        assert cm.weight_bytes == full.weight_bytes - sum(rows[k]["extra"] for k in ranking[:n])
        plural = "s" if n > 1 else ""
        assert cm.layouts.summary().endswith(f"{n} layer{plural} int8 (flash budget {budget:,} B)")
        # layers on int8 weights call the runtime's int8 kernels, the others int16 ones
        for k, low in enumerate(cm.lowered):
            int16 = "w16" in low.func or low.func.startswith("model_")  # generated: model_conv1
            assert int16 == (cm.file_index(k) not in ranking[:n]), (k, low.func)
    with pytest.raises(DoesNotFitError, match=f"needs {cm.flash_estimate:,} B of flash"):
        generate_c(g, flash_budget=cm.flash_estimate - 1)


def test_budget_choice_bit_exact_on_host_sanitized(chain: Path) -> None:
    """Two layers on int8 weights, two on int16: TFLM's outputs bit for bit, under ASan/UBSan."""
    g = read_tflite(chain)
    rows, ranking = expected_layers(), _ranking()
    budget = generate_c(g).flash_estimate - rows[ranking[0]]["extra"] - rows[ranking[1]]["extra"]
    x = np.random.default_rng(3).integers(-128, 128, (6, 8, 8, 8), dtype=np.int8)
    verdict, _ = validate_host(g, x, sanitize=True, flash_budget=budget)
    assert verdict.samples == 6 and verdict.bit_exact, verdict.summary()


def test_budget_too_small_refused_via_cli(chain: Path, tmp_path: Path) -> None:
    """No layout fits: exit 2, the budget and the bytes needed named, nothing written."""
    with pytest.raises(DoesNotFitError) as err:
        generate_c(read_tflite(chain), flash_budget=10_000)
    need = int(err.value.what.split(" needs ")[1].split(" B")[0].replace(",", ""))
    assert need > 10_000 and "flash budget of 10,000 B" in err.value.message
    for cmd in (["export", "--format", "c"], ["firmware", "--board", "mps2-an386"]):
        out = tmp_path / cmd[0]
        res = CliRunner().invoke(
            main, [*cmd, str(chain), "-o", str(out), "--flash-budget", "10000"]
        )
        assert res.exit_code == 2 and "Traceback" not in res.output, res.output
        assert "flash budget of 10,000 B" in res.output and f"needs {need:,} B" in res.output
        assert not out.exists()


@pytest.mark.parametrize("bad", ["12Q", "-5", "0", "1e5", "lots"])
def test_bad_flash_budget_string(chain: Path, tmp_path: Path, bad: str) -> None:
    res = CliRunner().invoke(
        main, ["export", str(chain), "-o", str(tmp_path / "o"), f"--flash-budget={bad}"]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert "--flash-budget" in res.output and "300K" in res.output
    assert not (tmp_path / "o").exists()


def test_flash_budget_units() -> None:
    assert [parse_flash_budget(s) for s in ("300000", "300K", "300kb", "1M", "2MiB", 4096)] == [
        300_000, 300 * 1024, 300 * 1024, 1024**2, 2 * 1024**2, 4096
    ]  # fmt: skip
    with pytest.raises(TinypipeError, match="not a number of bytes"):
        parse_flash_budget("3 apples")


def test_export_prints_the_choice(chain: Path, tmp_path: Path) -> None:
    rows, ranking = expected_layers(), _ranking()
    budget = generate_c(read_tflite(chain)).flash_estimate - rows[ranking[0]]["extra"]
    res = CliRunner().invoke(
        main, ["export", str(chain), "-o", str(tmp_path / "c"), "--flash-budget", str(budget)]
    )
    assert res.exit_code == 0, res.output
    assert "Weights: 3 layers int16" in res.output
    assert f"1 layer int8 (flash budget {budget:,} B)" in res.output
    lines = [ln.split() for ln in res.output.splitlines() if ln.split()[:2] == ["3", "CONV_2D"]]
    assert lines == [["3", "CONV_2D", f"{rows[3]['macs']:,}", "int8", f"{rows[3]['extra']:,}",
                      f"{rows[3]['saved']:,}"]]  # fmt: skip


@pytest.mark.slow  # converts the MLPerf Tiny shapes (shared with test_models.py's slow tests)
@pytest.mark.parametrize("label", ["ds_cnn", "mobilenet_v1", "resnet8", "fc_autoencoder"])
def test_board_budget_leaves_fitting_models_unchanged(zoo_model, tmp_path: Path, label) -> None:
    """The MLPerf Tiny shapes fit mps2-an386's flash: its default budget changes no byte of the
    C compiled with no budget at all."""
    name, kw = REFERENCE_MODELS[label]
    path = zoo_model(name, **kw)
    create_project(path, ["mps2-an386"], tmp_path / "fw")
    files = generate_c(read_tflite(path)).files
    written = {p.name: p.read_text() for p in (tmp_path / "fw/lib/model").iterdir()}
    assert {k: written[k] for k in files} == files


def test_budget_forced_int8_bit_exact_on_m4(chain: Path) -> None:
    """Under QEMU (mps2-an386): the two layers the budget sends to int8 weights run the DSP
    int8 kernels, the others the generated int16 ones; TFLM's outputs bit for bit."""
    g = read_tflite(chain)
    rows, ranking = expected_layers(), _ranking()
    budget = generate_c(g).flash_estimate - rows[ranking[0]]["extra"] - rows[ranking[1]]["extra"]
    x = np.random.default_rng(4).integers(-128, 128, (4, 8, 8, 8), dtype=np.int8)
    verdict, _ = validate_on_board(g, x, "mps2-an386", flash_budget=budget)
    assert verdict.samples == 4 and verdict.bit_exact, verdict.summary()


def test_run_config_flash_budget(tmp_path: Path) -> None:
    """[deploy] flash_budget in a tinypipe.toml: bytes or with a unit; a bad one refused when
    the file is read, naming the file."""
    from tinypipe.pipeline.config import load_config

    toml = tmp_path / "tinypipe.toml"
    toml.write_text('[deploy]\nboards = ["mps2-an386"]\nflash_budget = "300K"\n')
    assert load_config(toml).flash_budget == 300 * 1024
    toml.write_text('[deploy]\nboards = ["mps2-an386"]\n')
    assert load_config(toml).flash_budget is None
    toml.write_text('[deploy]\nflash_budget = "12Q"\n')
    with pytest.raises(TinypipeError, match=r"\[deploy\] Flash budget '12Q' is not a number"):
        load_config(toml)


def test_validate_project_folder_refuses_a_budget(chain: Path, tmp_path: Path) -> None:
    """A firmware project's C is compiled already: --flash-budget with it is a clear error
    (validate, cycles)."""
    create_project(chain, ["mps2-an386"], tmp_path / "fw")
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8, 8), np.int8))
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "fw"), "--board", "mps2-an386",
                                    "--inputs", str(tmp_path / "x.npy"), "--flash-budget", "300K"])  # fmt: skip
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert "is a firmware project" in res.output and "tinypipe firmware" in res.output
    res = CliRunner().invoke(main, ["cycles", str(tmp_path / "fw"), "--board", "mps2-an386",
                                    "--flash-budget", "300K"])  # fmt: skip
    assert res.exit_code == 2 and "is a firmware project" in res.output, res.output


def test_firmware_from_exported_c_refuses_a_budget(chain: Path, tmp_path: Path) -> None:
    """A folder of exported C is compiled already: a budget for it is refused, nothing written."""
    CliRunner().invoke(main, ["export", str(chain), "-o", str(tmp_path / "c")])
    out = tmp_path / "fw"
    res = CliRunner().invoke(main, ["firmware", str(tmp_path / "c"), "--board", "mps2-an386",
                                    "-o", str(out), "--flash-budget", "1M"])  # fmt: skip
    assert res.exit_code == 2 and "flash budget does not apply" in res.output, res.output
    assert not out.exists()
    ok = CliRunner().invoke(main, ["firmware", str(tmp_path / "c"), "--board", "mps2-an386",
                                   "-o", str(out)])  # fmt: skip
    assert ok.exit_code == 0, ok.output


def test_flash_saved_is_the_extra_bytes_under_patches(digits_tflite: Path) -> None:
    """The digits CNN runs its first layers patch by patch (a window table of the patch driver's
    own): whatever layers a budget sends to int8 weights, the weights shrink by exactly their
    extra bytes, down to every layer on int8 weights."""
    g = read_tflite(digits_tflite)
    full = cm = generate_c(g)
    assert full.patches is not None and len(full.layouts.layers) >= 2
    extra = {x.op: x.extra_bytes for x in full.layouts.layers}
    while True:
        try:
            cm = generate_c(g, flash_budget=cm.flash_estimate - 1)
        except DoesNotFitError:
            break
        int8 = [x.op for x in cm.layouts.int8]
        assert cm.weight_bytes == full.weight_bytes - sum(extra[k] for k in int8)
    assert len(cm.layouts.int8) == len(full.layouts.layers)


def test_a_board_core_ranks_by_its_own_figures(chain: Path, tmp_path: Path) -> None:
    """Firmware for the micro:bit ranks the layers by the Cortex-M0's instructions per MAC."""
    g = read_tflite(chain)
    cm = generate_c(g, cpu="cortex-m0")
    rows = expected_layers("cortex-m0")
    assert [x.instructions_saved for x in cm.layouts.layers] == [r["saved"] for r in rows]
    assert cm.layouts.to_dict()["cpu"] == "cortex-m0"
    budget = cm.flash_estimate - 1
    low = generate_c(g, flash_budget=budget, cpu="cortex-m0")
    assert [x.op for x in low.layouts.int8] == _ranking("cortex-m0")[:1]
    res = CliRunner().invoke(main, ["firmware", str(chain), "--board", "microbit", "-o",
                                    str(tmp_path / "fw"), "--flash-budget", str(budget)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert low.layouts.summary() in res.output and "Cortex-M0 instructions saved" in res.output
    assert generate_c(g, cpu="cortex-m55").layouts.to_dict()["cpu"] == "cortex-m4"  # not measured


@pytest.mark.slow
def test_run_with_a_flash_budget(chain: Path, tmp_path: Path) -> None:
    """`tinypipe run` with [deploy] flash_budget: the firmware, its C and the report take the
    budget's layouts, and the host run stays bit-exact."""
    rows, ranking = expected_layers(), _ranking()
    budget = generate_c(read_tflite(chain)).flash_estimate - rows[ranking[0]]["extra"]
    (tmp_path / "model.tflite").write_bytes(chain.read_bytes())
    rng = np.random.default_rng(9)
    np.save(tmp_path / "x.npy", rng.integers(-128, 128, (4, 1, 8, 8, 8), dtype=np.int8))
    cfg = tmp_path / "tinypipe.toml"
    cfg.write_text('[project]\nname = "chain"\n[model]\ntflite = "model.tflite"\n'
                   '[data]\ninputs = "x.npy"\n[deploy]\nboards = ["host"]\nvalidate_samples = 4\n'
                   f"flash_budget = {budget}\n")  # fmt: skip
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["boards"]["host"]["bit_exact"]
    layouts = generate_c(read_tflite(chain), "chain", flash_budget=budget).layouts
    assert [x.op for x in layouts.int8] == ranking[:1]
    assert report["weights"] == {"summary": layouts.summary(), **layouts.to_dict()}
    assert f"{layouts.summary()}." in (tmp_path / "out" / "report.md").read_text()
    assert "tp_conv_s8(" in (tmp_path / "out" / "c" / "chain.c").read_text()
