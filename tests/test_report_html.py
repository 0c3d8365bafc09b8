"""report.html from a report dict: the banner's verdicts, the charts, the tables, and a section
added by a new function (no pipeline run needed; the real run's page is checked in a browser in
test_pipeline.py)."""

from __future__ import annotations

import re

from tinypipe.pipeline import charts
from tinypipe.pipeline.report_html import SECTIONS, Section, render_html, table


def _report(bit_exact: bool = True, ram_used: int = 18_212) -> dict:
    layers = [
        {"index": 0, "op": "CONV_2D", "input": [1, 8, 8, 1], "output": [1, 8, 8, 8], "macs": 4608,
         "param_bytes": 104, "live_bytes": 532, "instructions": 64_080},
        {"index": 1, "op": "RESHAPE", "input": [1, 8, 8, 8], "output": [1, 512], "macs": 0,
         "param_bytes": 0, "live_bytes": 512, "instructions": None},
        {"index": 2, "op": "FULLY_CONNECTED", "input": [1, 512], "output": [1, 3], "macs": 1536,
         "param_bytes": 1548, "live_bytes": 515, "instructions": 9_000},
    ]  # fmt: skip
    m4 = {"bit_exact": bit_exact, "samples": 8, "elements": 24, "mismatches": 0 if bit_exact else 3,
          "instructions": 73_200, "clock_hz": 25_000_000,
          "flash": {"used": 16_060, "budget": 4_194_304, "weights": 5_044, "kernels": 6_618, "rest": 4_398},
          "ram": {"used": ram_used, "budget": 4_194_304, "stack": 16_384},
          "fit": {"flash_margin": 4_178_244, "ram_margin": 4_194_304 - ram_used, "verdict": "fits"}}  # fmt: skip
    host = {"bit_exact": True, "samples": 8, "elements": 24, "mismatches": 0, "instructions": None,
            "clock_hz": None, "flash": {"used": 22_616, "budget": None}, "ram": {"used": 3_096, "budget": None},
            "fit": {"verdict": "n/a (host)"}}  # fmt: skip
    return {
        "name": "demo <&>",
        "run_date": "2026-12-01 04:00 UTC",
        "model": {"tflite": "model.tflite", "sha256": "ab" * 32, "keras_sha256": "cd" * 32},
        "generated_sources": {"model.c": "00"},
        "toolchain": {"tinypipe": "0.1.0", "python": "3.11.7"},
        "accuracy": {"float": 0.9, "int8": 0.875, "drop_points": 2.5, "samples": 8, "classes": ["a", "b", "c"],
                     "confusion_matrix": [[3, 0, 0], [1, 2, 0], [0, 0, 2]]},  # fmt: skip
        "memory": {"arena_bytes": 1_048, "io_bytes": 67, "tflm_arena_bytes": 3_000},
        "layers": layers,
        "arena_buffers": [{"label": "conv_out", "size": 512, "offset": 0, "first": 0, "last": 2},
                          {"label": "scratch of #2", "size": 3, "offset": 1_044, "first": 2, "last": 2}],  # fmt: skip
        "layer_instructions_board": "mps2-an386",
        "boards": {"host": host, "mps2-an386": m4},
        "stages": {"seconds": {"train": 3.25}, "skipped": ["export"]},
    }


def test_banner_tables_and_charts():
    page = render_html(_report())
    head, rest = page.split('id="verdict"', 1)
    assert "2026-12-01 04:00 UTC" in head and "demo &lt;&amp;&gt;" in head  # escaped, dated
    banner = rest[: rest.index("<nav>")]
    assert 'class="banner ok"' in page
    assert "float 90.00 % → int8 87.50 %" in banner and "quantization: -2.50 points on 8 samples" in banner
    assert "✔ fits: flash 4,178,244 B, RAM 4,176,092 B spare" in banner
    assert "73,200 instructions / inference, 2.93 ms at 25 MHz" in banner
    assert "no memory budget" in banner  # host
    assert len(re.findall(r'src="data:image/png;base64,iVBORw0KGgo', page)) == 5
    # numbers right-aligned, names never wrap, RAM names its stack, ms at the board clock
    assert '<td class="name">mps2-an386</td>' in page and '<td class="num">73,200</td>' in page
    memory = page[page.index("<h3>Flash and RAM</h3>") :]
    assert '<th class="num">of which stack B</th>' in memory
    assert '<td class="num">18,212</td><td class="num">16,384</td><td class="num">4,194,304</td>' in memory
    assert '<td class="num">2.56</td>' in page  # 64,080 instructions at 25 MHz
    assert "<li>python: 3.11.7</li>" in page and "<li>stages reused (inputs unchanged): export</li>" in page


def test_banner_turns_red_on_a_mismatch_or_a_board_that_does_not_fit():
    assert 'class="banner bad"' in render_html(_report(bit_exact=False))
    page = render_html(_report(ram_used=5_000_000))
    assert 'class="banner bad"' in page and "✘ does not fit" in page


def test_a_new_section_is_one_function():
    def energy(r: dict) -> Section:
        return Section("energy", "Energy", table(["board", "µJ"], [["mps2-an386", "1.5"]], numeric=(1,)))

    page = render_html(_report(), [*SECTIONS, energy])
    assert '<a href="#energy">Energy</a>' in page and '<section id="energy">' in page
    assert page.index('id="provenance"') < page.index('id="energy"')
    assert "<td class=\"num\">1.5</td>" in page


def test_charts_are_deterministic_pngs():
    r = _report()
    a = charts.arena_timeline(r["arena_buffers"], 1048, r["layers"])
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == charts.arena_timeline(r["arena_buffers"], 1048, r["layers"])
    assert charts.layer_costs([{**x, "instructions": None} for x in r["layers"]], None, None) is None
    assert charts.memory_budget({"host": r["boards"]["host"]}) is None  # no budget, no chart


def test_lightweighting_steps_get_their_section():
    opt = {"board": "microbit", "train_seconds": 2.0, "steps": [
        {"step": "baseline", "float_accuracy": 0.95, "int8_accuracy": 0.94, "macs": 1000,
         "compiled_weight_bytes": 4000, "packed_layers": 0, "arena_bytes": 9500,
         "boards": {"microbit": {"fits": False, "estimated": True, "bit_exact": None, "flash_used": 40000,
                                 "flash_size": 262144, "ram_used": 19000, "ram_size": 16384, "instructions": None}}},
    ]}  # fmt: skip
    page = render_html({**_report(), "optimize": opt})
    section = page[page.index('<section id="lightweighting">') :]
    assert '<td class="name">baseline</td><td class="num">95.00 %</td><td class="num">94.00 %</td>' in section
    assert "19,000 (est.)" in section and "microbit budget: flash 262,144 B, RAM 16,384 B." in section
    assert 'alt="int8 accuracy against size and cost per lightweighting step"' in section
    assert "lightweighting" not in render_html(_report())


def test_npu_estimates_get_their_section():
    npu = {"ethos-u55-128": {"clock_hz": 500_000_000, "cycles_total": 123_456, "time_ms": 0.2469,
                             "sram_bytes": 2_048, "flash_bytes": 9_000, "dram_bytes": 0, "cpu_ops": 0}}  # fmt: skip
    page = render_html({**_report(), "npu": npu})
    section = page[page.index('<section id="npu">') :]
    assert '<td class="name">ethos-u55-128</td>' in section and "123,456" in section
    assert "mps2-an386 73,200 instructions" in section


def test_weight_layouts_get_their_section():
    weights = {"summary": "Weights: 1 layer int16 (+1,216 B flash, ~73.0k instructions saved), "
               "1 layer int8 (flash budget 30,000 B)", "budget": 30_000, "flash_bytes": 29_000,
               "layers": [{"op": 0, "opcode": "CONV_2D", "macs": 73_728, "layout": "int16",
                           "extra_bytes": 1_216, "instructions_saved": 72_991},
                          {"op": 3, "opcode": "CONV_2D", "macs": 73_728, "layout": "int8",
                           "extra_bytes": 4_672, "instructions_saved": 72_991}]}  # fmt: skip
    page = render_html({**_report(), "weights": weights})
    section = page[page.index('<section id="weights">') :]
    assert "1 layer int8 (flash budget 30,000 B)." in section
    assert '<td class="num">3</td><td class="name">CONV_2D</td><td class="num">73,728</td><td>int8</td>' in section
    assert '<td class="num">4,672</td><td class="num">72,991</td>' in section
    assert 'id="weights"' not in render_html(_report())
