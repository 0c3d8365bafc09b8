"""Latency and energy estimates: the arithmetic against the registry's own figures, recomputed
here from first principles (a chip, or for an FPGA image a production chip with the same core:
E = V * I * t at the datasheet's clock; a core in silicon: E = P * t with
P = (DMIPS/MHz) / (DMIPS/mW) mW per MHz times the clock; t = cycles / f), and
boards without a figure saying why energy is unavailable, in `tinypipe boards`, validate and the
run report."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tinypipe.check.validate import Verdict
from tinypipe.cli import main
from tinypipe.device.boards import BOARDS, get_board
from tinypipe.device.energy import (
    CorePowerFigure,
    PowerFigure,
    SameCoreChipFigure,
    estimate,
    layer_estimates,
)
from tinypipe.pipeline.report import render_markdown
from tinypipe.pipeline.report_html import render_html

WITH_FIGURE = [b for b in BOARDS.values() if b.power is not None]
WITHOUT_FIGURE = [b for b in BOARDS.values() if b.power is None]


def _watts(b, clock_hz: float) -> float:
    """The figure's power in W at `clock_hz`, from its raw fields."""
    p = b.power
    if isinstance(p, PowerFigure):
        return p.supply_v * (p.current_ma / 1000)
    return (p.dmips_per_mhz / p.dmips_per_mw) / 1000 * (clock_hz / 1e6)


def test_every_board_has_a_cited_figure_or_says_why_not() -> None:
    kinds = {type(b.power) for b in WITH_FIGURE}
    assert kinds == {PowerFigure, CorePowerFigure, SameCoreChipFigure}, "all kinds are in use"
    for b in WITH_FIGURE:
        p = b.power
        assert not b.power_missing and p.document and p.table and p.found
        if isinstance(p, PowerFigure):  # a chip: its datasheet's table
            assert p.current_ma > 0 and p.at_hz > 0 and 0 < p.supply_v < 6
            doc = p.document.lower()
            assert any(w in doc for w in ("datasheet", "data sheet", "product specification"))
        if isinstance(p, SameCoreChipFigure):  # an FPGA image: another chip with its core
            assert any("FPGA" in n for n in b.notes) and b.cpu == p.core.lower()
            assert p.chip in p.summary() and "not the board's draw" in p.basis
        elif not isinstance(
            p, PowerFigure
        ):  # an FPGA image: the core vendor's figure for the same core in silicon
            assert p.dmips_per_mw > 0 and p.dmips_per_mhz > 0 and p.process
            assert any("FPGA" in n for n in b.notes) and b.cpu == p.core.lower()
            assert "core alone" in p.conditions and "not the board's draw" in p.basis
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
        # a chip's current is characterised at the datasheet's clock; a core's power per MHz
        # holds at any clock, so the board's own is used
        f = b.power.at_hz if isinstance(b.power, PowerFigure) else b.clock_hz
        joules = _watts(b, f) * (instructions / f)
        assert e.energy_uj == pytest.approx(joules * 1e6, rel=1e-12)
        assert b.power.reference in e.energy_basis and b.power.summary() in e.energy_basis
        assert b.power.basis in e.energy_basis


def test_stm32f405_figure_in_numbers() -> None:
    """6,846,900 cycles at 168 MHz = 40.755 ms; at 3.3 V and 40 mA that is 5.380 mJ."""
    e = estimate(get_board("netduinoplus2"), 6_846_900)
    assert e.energy_uj == pytest.approx(3.3 * 0.040 * 6_846_900 / 168e6 * 1e6)
    assert round(e.energy_uj) == 5380
    assert e.time_ms == pytest.approx(6_846_900 / 16e6 * 1e3)  # the firmware's 16 MHz HSI clock


def test_cortex_m3_core_figure_in_numbers() -> None:
    """1.25 DMIPS/MHz at 12.5 DMIPS/mW is 0.1 mW/MHz, i.e. 0.1 nJ a cycle: 10,110,080 cycles
    (ds_cnn on the AN385) cost 1,011,008 nJ = 1,011.008 µJ, whatever the clock."""
    b = get_board("mps2-an385")
    e = estimate(b, 10_110_080)
    assert e.energy_uj == pytest.approx(1011.008, rel=1e-12)
    assert b.power.summary().startswith("100 µW/MHz (Cortex-M3 core only")
    assert e.time_ms == pytest.approx(10_110_080 / 25e6 * 1e3)


def test_cortex_m7_same_core_chip_figure_in_numbers() -> None:
    """83 mA at 3.3 V and 300 MHz is 0.913 nJ a cycle: 5,769,120 cycles (ds_cnn on the AN500)
    cost 5,267.20656 µJ, while the time is at the FPGA image's 25 MHz."""
    b = get_board("mps2-an500")
    e = estimate(b, 5_769_120)
    assert e.energy_uj == pytest.approx(5267.20656, rel=1e-12)
    assert e.time_ms == pytest.approx(5_769_120 / 25e6 * 1e3)
    assert b.power.summary() == "83 mA at 300 MHz, 3.3 V (PIC32CZ CA70, same core)"
    assert "run current of a production chip with the same core" in e.energy_basis


def test_cortex_m4_image_borrows_the_netduino_chip_figure() -> None:
    """Both Cortex-M4 boards rest on the STM32F405's run current, so the same cycles cost the
    same energy on each, although the times differ with their clocks."""
    an386, netduino = get_board("mps2-an386"), get_board("netduinoplus2")
    assert an386.power.chip == "STM32F405" and an386.power.core == "Cortex-M4"
    a, n = estimate(an386, 1_000_000), estimate(netduino, 1_000_000)
    assert a.energy_uj == n.energy_uj == pytest.approx(3.3 * 0.040 * 1e6 / 168e6 * 1e6)
    assert (a.time_ms, n.time_ms) == (40.0, 62.5)
    assert a.energy_basis != n.energy_basis  # one is the board's own chip, the other is not


def test_nothing_to_estimate_without_a_count_or_a_clock() -> None:
    assert estimate(get_board("host"), 123_456) is None
    assert estimate(get_board("mps3-an547"), None) is None
    assert layer_estimates(get_board("mps3-an547"), [32_000, None]) == [
        {"time_ms": 1.0, "energy_uj": None},
        {"time_ms": None, "energy_uj": None},
    ]


def test_cli_boards_shows_power_and_sources() -> None:
    out = CliRunner().invoke(main, ["boards"]).output
    assert "RUN POWER" in out
    rows = {line.split()[0]: line for line in out.splitlines()[1 : len(BOARDS) + 1]}
    for b in WITH_FIGURE:
        assert b.power.summary() in rows[b.name] and b.power.table in out
        assert f"  {b.name}: {b.power.summary()}" in out
    for b in WITHOUT_FIGURE:
        assert f"{b.name}: energy unavailable: {b.power_missing}" in out
        assert ("n/a (wall-clock)" if b.is_host else "unavailable") in rows[b.name]
    data = {d["name"]: d for d in json.loads(CliRunner().invoke(main, ["boards", "--json"]).output)}
    for b in BOARDS.values():
        p = data[b.name]["power"]
        if isinstance(b.power, SameCoreChipFigure):
            assert p["kind"] == "same-core chip supply current" and p["chip"] == b.power.chip
            assert p["current_ma"] == b.power.current_ma and p["at_hz"] == b.power.at_hz
        elif isinstance(b.power, PowerFigure):
            assert p["kind"] == "chip supply current" and p["current_ma"] == b.power.current_ma
        elif isinstance(b.power, CorePowerFigure):
            assert p["kind"] == "core dynamic power per MHz"
            assert (p["dmips_per_mw"], p["dmips_per_mhz"]) == (
                b.power.dmips_per_mw,
                b.power.dmips_per_mhz,
            )
        else:
            assert p is None and data[b.name]["power_missing"]


@pytest.mark.parametrize("name", ["netduinoplus2", "mps2-an385", "mps2-an500", "mps3-an547"])
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
    with_fig, without = get_board("netduinoplus2"), get_board("mps3-an547")
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
