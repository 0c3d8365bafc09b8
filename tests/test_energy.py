"""Latency and energy estimates: the arithmetic against the registry's own figures, recomputed
here from first principles (E = V * I * t, t = cycles / f), and boards without a datasheet figure
saying that energy is unavailable, in `tinypipe boards`, validate and the run report."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tinypipe.check.validate import Verdict
from tinypipe.cli import main
from tinypipe.device.boards import BOARDS, get_board
from tinypipe.device.energy import estimate, layer_estimates
from tinypipe.pipeline.report import render_markdown
from tinypipe.pipeline.report_html import render_html

WITH_FIGURE = [b for b in BOARDS.values() if b.power is not None]
WITHOUT_FIGURE = [b for b in BOARDS.values() if b.power is None]


def test_every_board_has_a_cited_figure_or_says_why_not() -> None:
    assert WITH_FIGURE, "at least one board carries a datasheet run current"
    for b in WITH_FIGURE:
        p = b.power
        assert p.current_ma > 0 and p.at_hz > 0 and 0 < p.supply_v < 6
        # the figure names its document, the table in it and where it was read
        assert "datasheet" in p.document.lower() and "Table" in p.table and p.found
        assert not b.power_missing
    for b in WITHOUT_FIGURE:
        assert len(b.power_missing) > 20, f"{b.name} must say why it has no power figure"


@pytest.mark.parametrize("name", [b.name for b in BOARDS.values() if b.clock_hz])
@pytest.mark.parametrize("instructions", [1, 40_000, 6_846_900])
def test_time_and_energy_follow_from_the_registry_figures(name: str, instructions: int) -> None:
    b = get_board(name)
    e = estimate(b, instructions)
    seconds_at_board_clock = instructions / b.clock_hz
    assert e.cycles == instructions
    assert e.time_ms == pytest.approx(seconds_at_board_clock * 1000, rel=1e-12)
    if b.power is None:
        assert e.energy_uj is None and e.energy_basis == b.power_missing
    else:
        watts = b.power.supply_v * (b.power.current_ma / 1000)
        seconds_at_datasheet_clock = instructions / b.power.at_hz
        assert e.energy_uj == pytest.approx(watts * seconds_at_datasheet_clock * 1e6, rel=1e-12)
        assert b.power.reference in e.energy_basis and b.power.summary() in e.energy_basis
        assert "Table" in b.power.reference


def test_stm32f405_figure_in_numbers() -> None:
    """6,846,900 cycles at 168 MHz = 40.755 ms; at 3.3 V and 40 mA that is 5.380 mJ."""
    e = estimate(get_board("netduinoplus2"), 6_846_900)
    assert e.energy_uj == pytest.approx(3.3 * 0.040 * 6_846_900 / 168e6 * 1e6)
    assert round(e.energy_uj) == 5380
    assert e.time_ms == pytest.approx(6_846_900 / 16e6 * 1e3)  # the firmware's 16 MHz HSI clock


def test_nothing_to_estimate_without_a_count_or_a_clock() -> None:
    assert estimate(get_board("host"), 123_456) is None
    assert estimate(get_board("mps2-an386"), None) is None
    assert layer_estimates(get_board("mps2-an386"), [25_000, None]) == [
        {"time_ms": 1.0, "energy_uj": None},
        {"time_ms": None, "energy_uj": None},
    ]


def test_cli_boards_shows_power_and_sources() -> None:
    out = CliRunner().invoke(main, ["boards"]).output
    assert "RUN POWER" in out
    for b in WITH_FIGURE:
        assert b.power.summary() in out and b.power.table in out
    for b in WITHOUT_FIGURE:
        assert f"{b.name}: energy unavailable: {b.power_missing}" in out
    data = {d["name"]: d for d in json.loads(CliRunner().invoke(main, ["boards", "--json"]).output)}
    for b in BOARDS.values():
        if b.power:
            assert data[b.name]["power"]["current_ma"] == b.power.current_ma
        else:
            assert data[b.name]["power"] is None and data[b.name]["power_missing"]


@pytest.mark.parametrize("name", ["netduinoplus2", "microbit"])
def test_validate_summary_labels_the_estimate(name: str) -> None:
    b = get_board(name)
    e = estimate(b, 1_000_000)
    v = Verdict(board=name, samples=1, elements=10, mismatches=0, max_abs_diff=0,
                instructions=[1_000_000], extra={"estimate": e.to_dict()})  # fmt: skip
    text = v.summary()
    assert f"estimate: {1e6 / b.clock_hz * 1e3:,.3f} ms per inference" in text
    assert "taken as one cycle each" in text
    if b.power:
        assert f"energy (estimate): {e.energy_uj:,.2f} µJ per inference" in text
    else:
        assert f"energy: unavailable for {name}: {b.power_missing}" in text


def test_report_shows_ms_and_uj_per_inference_and_per_layer() -> None:
    with_fig, without = get_board("netduinoplus2"), get_board("mps2-an386")
    n = 2_000_000
    boards = {
        b.name: {"bit_exact": True, "samples": 1, "elements": 10, "mismatches": 0, "instructions": n,
                 "clock_hz": b.clock_hz, "estimate": estimate(b, n).to_dict()}
        for b in (with_fig, without)
    }  # fmt: skip
    layer = {"index": 0, "op": "CONV_2D", "input": [1, 8, 8, 1], "output": [1, 8, 8, 4], "macs": 2304,
             "param_bytes": 52, "live_bytes": 320, "instructions": n,
             **layer_estimates(with_fig, [n])[0]}  # fmt: skip
    r = {"name": "t", "model": {"tflite": "m.tflite", "sha256": "0" * 64, "macs": 2304, "param_bytes": 52},
         "memory": {"arena_bytes": 320, "io_bytes": 320, "tflm_arena_bytes": None}, "boards": boards,
         "layers": [layer], "layer_instructions_board": with_fig.name}  # fmt: skip
    md = render_markdown(r)
    uj = with_fig.power.energy_uj(n)
    assert f"| {n / with_fig.clock_hz * 1e3:,.3f} | {uj:,.2f} |" in md
    assert f"| {n / without.clock_hz * 1e3:,.3f} | - |" in md
    assert f"| {n / with_fig.clock_hz * 1e3:,.4f} | {uj:,.3f} |" in md  # the layer row
    assert (
        "Estimates, not measurements" in md and f"energy unavailable: {without.power_missing}" in md
    )
    page = render_html(r)
    assert f"{uj:,.2f}" in page and "How ms and µJ are estimated" in page
