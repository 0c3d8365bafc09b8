"""`tinypipe run`: the examples end to end, and the report's figures checked against the run."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.check.reference import quantize_input, run_tflm, smallest_tflm_arena
from tinypipe.cli import main
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.device.boards import get_board
from tinypipe.device.elfsize import elf_usage
from tinypipe.model.datasets import load_dataset

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _copy_example(name: str, tmp_path: Path) -> Path:
    cfg = tmp_path / name / "tinypipe.toml"
    cfg.parent.mkdir()
    shutil.copy(EXAMPLES / name / "tinypipe.toml", cfg)
    return cfg


def _run(cfg: Path):
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    cfg = _copy_example("digits", tmp_path_factory.mktemp("run"))
    output = _run(cfg)
    return cfg.parent / "out", output


@pytest.mark.slow
def test_digits_run_is_bit_exact_on_both_boards(digits_run):
    out, log = digits_run
    for stage in ("train", "quantize", "export", "firmware", "build", "validate"):
        assert f"[{stage}] running" in log
    assert "host: BIT-EXACT on 64 samples" in log and "mps2-an386: BIT-EXACT on 64 samples" in log
    for f in ("report.json", "report.md", "report.html", "memory.png", "model.tflite"):
        assert (out / f).is_file(), f


@pytest.mark.slow
def test_report_figures_match_the_run(digits_run):
    out, _ = digits_run
    report = json.loads((out / "report.json").read_text())
    model = (out / "model.tflite").read_bytes()
    graph = read_tflite(model)

    # accuracy and confusion matrix, recomputed with the TFLM interpreter on the test split
    ds = load_dataset("digits", seed=0, test_fraction=0.2)
    t = graph.input_tensors[0]
    x = quantize_input(ds.x_test, t.scale, t.zero_point).reshape(len(ds.x_test), *t.shape)
    pred = run_tflm(model, x).reshape(len(x), -1).argmax(axis=1)
    acc = report["accuracy"]
    assert acc["int8"] == pytest.approx(float(np.mean(pred == ds.y_test)))
    assert acc["int8"] >= 0.90
    cm = np.array(acc["confusion_matrix"])
    assert cm.sum() == len(ds.y_test) and np.trace(cm) == int(np.sum(pred == ds.y_test))

    # memory: the plan and TFLM's smallest arena, measured again here
    cm_model = generate_c(graph, "digits")
    assert report["memory"]["arena_bytes"] == cm_model.arena_size
    assert report["memory"]["tflm_arena_bytes"] == smallest_tflm_arena(model)
    assert [r["live_bytes"] for r in report["layers"]] == cm_model.plan.live_bytes
    assert [r["op"] for r in report["layers"]] == [op.opcode for op in graph.operators]
    # weight layouts: the firmware's, under the boards' flash (mps2-an386's: everything fits)
    budget = get_board("mps2-an386").flash_region.size
    layouts = generate_c(graph, "digits", flash_budget=budget).layouts
    assert report["weights"] == {"summary": layouts.summary(), **layouts.to_dict()}
    assert report["weights"]["budget"] == budget and all(x.int16 for x in layouts.layers)

    # provenance hashes
    assert report["model"]["sha256"] == hashlib.sha256(model).hexdigest()
    for name, digest in report["generated_sources"].items():
        assert hashlib.sha256((out / "c" / name).read_bytes()).hexdigest() == digest

    # boards: verdicts, instruction counts and ELF sizes from the real build
    state = json.loads((out / "state.json").read_text())
    counts = state["validate"]["result"]["mps2-an386"]["instructions"]
    m4 = report["boards"]["mps2-an386"]
    assert m4["bit_exact"] and m4["samples"] == 64 and m4["mismatches"] == 0
    assert m4["instructions"] == int(np.mean(counts))
    elf = out / "firmware" / ".pio" / "build" / "mps2-an386" / "firmware.elf"
    usage = elf_usage(elf, get_board("mps2-an386"))
    assert m4["flash"]["used"] == usage.flash_used and m4["ram"]["used"] == usage.ram_used
    f = m4["flash"]
    assert f["weights"] + f["kernels"] + f["rest"] == f["used"] and f["weights"] > 0 and f["kernels"] > 0
    assert m4["fit"]["flash_margin"] == get_board("mps2-an386").flash_region.size - usage.flash_used

    # per-layer instructions measured on the board add up to the whole inference
    assert report["layer_instructions_board"] == "mps2-an386"
    per_layer = [r["instructions"] for r in report["layers"]]
    assert all(c is None for r, c in zip(report["layers"], per_layer) if r["op"] == "RESHAPE")
    assert abs(sum(c for c in per_layer if c) - m4["instructions"]) <= 0.01 * m4["instructions"]

    # the human report prints the same numbers
    md = (out / "report.md").read_text()
    assert f"{m4['instructions']:,}" in md
    assert f"{100 * acc['int8']:.2f} %" in md
    assert "### Weight layouts" in md and f"{layouts.summary()}." in md
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and f"{m4['instructions']:,}" in html
    assert (out / "memory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_report_page_in_a_real_browser(digits_run, tmp_path):
    """report.html opens with the verdict banner and the run date, embeds its charts (no network),
    and headless Chromium renders it: the banner's green is on screen, near the top."""
    out, _ = digits_run
    report = json.loads((out / "report.json").read_text())
    page = (out / "report.html").read_text()
    banner = page[page.index('id="verdict"') : page.index("<nav>")]
    assert 'class="banner ok"' in page and report["run_date"] in page[: page.index('id="verdict"')]
    for board in ("host", "mps2-an386"):
        assert f"<h3>{board}</h3>" in banner
    for b in report["boards"].values():  # (a re-run in this module may validate fewer samples)
        assert f"✔ bit-exact: {b['samples']} samples" in banner
    assert "✔ fits" in banner
    acc = report["accuracy"]
    assert f"float {100 * acc['float']:.2f} % → int8 {100 * acc['int8']:.2f} %" in banner
    alts = [html.unescape(a) for a in re.findall(r'<img class="chart" alt="([^"]+)" src="data:image/png;base64,', page)]
    assert alts == ["confusion matrix of the int8 model", "flash and RAM against each board's budget",
                    "instructions per layer", "arena timeline: tensor lifetimes over the layers and their offsets",
                    "arena bytes live per layer"]  # fmt: skip
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert "<li>tinypipe: " in page and "<p>- " not in page  # provenance is a real list
    assert "<th class=\"num\">of which stack B</th>" in page and '<td class="num">16,384</td>' in page
    # every arena buffer drawn comes from the plan the C was generated with
    plan = generate_c(read_tflite(out / "model.tflite"), "digits").plan
    assert [(b["offset"], b["size"], b["first"], b["last"]) for b in report["arena_buffers"]] == [
        (b.offset, b.size, b.first, b.last) for b in plan.buffers
    ]

    shot = tmp_path / "report.png"
    subprocess.run(["bash", str(SCRIPTS / "screenshot.sh"), str(out / "report.html"), str(shot), "1280,1000"],
                   check=True, timeout=120)  # fmt: skip
    import matplotlib.image

    img = (matplotlib.image.imread(shot)[..., :3] * 255).round().astype(int)
    assert img.shape[:2] == (1000, 1280)
    green = np.all(np.abs(img - [0xE8, 0xF5, 0xE9]) <= 2, axis=-1)  # the "all good" banner
    rows = np.flatnonzero(green.sum(axis=1) > 400)
    assert rows.size > 40 and rows.min() < 250, "banner not rendered at the top"
    assert (img.sum(axis=-1) < 600).mean() > 0.02  # text and charts (about 4 %), not a blank page


@pytest.mark.slow
def test_rerun_skips_unchanged_stages(digits_run):
    out, _ = digits_run
    before = (out / "report.json").read_text()
    log = _run(out.parent / "tinypipe.toml")
    for stage in ("train", "quantize", "export", "firmware", "build", "validate"):
        assert re.search(rf"\[{stage}\] skipped: inputs unchanged", log), stage
    after = json.loads((out / "report.json").read_text())
    assert json.loads(before)["boards"] == after["boards"]

    # a changed setting re-runs only the stages that depend on it
    cfg = out.parent / "tinypipe.toml"
    cfg.write_text(cfg.read_text().replace("validate_samples = 64", "validate_samples = 16"))
    log = _run(cfg)
    for stage in ("train", "quantize", "export", "firmware", "build"):
        assert f"[{stage}] skipped" in log, stage
    assert "[validate] running" in log and "host: BIT-EXACT on 16 samples" in log

    # [npu] adds only the Vela stage; the report gets its section with Vela's own figures
    from tinypipe.device.npu import estimate_npu

    cfg.write_text(cfg.read_text() + '\n[npu]\naccelerators = ["ethos-u55-128"]\n')
    log = _run(cfg)
    for stage in ("train", "quantize", "export", "firmware", "build", "validate"):
        assert f"[{stage}] skipped" in log, stage
    assert "[npu] running" in log
    npu = json.loads((out / "report.json").read_text())["npu"]["ethos-u55-128"]
    assert npu["cycles_total"] == estimate_npu(out / "model.tflite", "ethos-u55-128").cycles_total
    md = (out / "report.md").read_text()
    assert "## Ethos-U NPU estimate" in md and f"{npu['cycles_total']:,}" in md


@pytest.mark.slow
def test_vibration_example_end_to_end(tmp_path):
    cfg = _copy_example("vibration", tmp_path)
    log = _run(cfg)
    assert "host: BIT-EXACT" in log and "mps2-an386: BIT-EXACT" in log
    report = json.loads((cfg.parent / "out" / "report.json").read_text())
    assert report["accuracy"]["classes"] == ["normal", "imbalance", "bearing_wear", "misalignment"]
    # realistic data (mild faults, noise, drift): good but not perfect, in float and in int8
    acc = report["accuracy"]
    assert 0.7 <= acc["float"] < 1.0 and 0.7 <= acc["int8"] < 1.0
    assert np.trace(acc["confusion_matrix"]) < acc["samples"]
    assert all(b["bit_exact"] for b in report["boards"].values())


def test_bad_config_is_a_clear_error(tmp_path):
    cfg = tmp_path / "tinypipe.toml"
    cfg.write_text('[model]\nname = "tiny_cnn"\nepochz = 3\n')
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 2 and "unknown key(s) epochz" in res.output
    cfg.write_text('[deploy]\nboards = ["esp32"]\n')
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 2 and "Unknown board 'esp32'" in res.output
    assert not (tmp_path / "out").exists()
    cfg.write_text('[npu]\naccelerators = ["ethos-u99"]\n')
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 2 and "unknown Ethos-U configuration 'ethos-u99'" in res.output
    assert not (tmp_path / "out").exists()
    res = CliRunner().invoke(main, ["run", str(tmp_path / "missing.toml")])
    assert res.exit_code == 2 and "does not exist" in res.output
