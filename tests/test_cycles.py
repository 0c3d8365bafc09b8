"""The Cortex-M3/M4 cycle model: the TRMs' own worked examples (Arm DDI 0439D and 100165_0201,
section 3.3.2) as the oracle for the timing rules, a hand-written QEMU log for the trace reader,
and under QEMU the traced instruction count against the firmware's own -icount count."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tinypipe.cli import main
from tinypipe.device.boards import get_board
from tinypipe.device.cycles import (
    TIMINGS,
    Insn,
    count_cycles,
    executed_blocks,
    inference_stream,
    timing_for,
)
from tinypipe.device.energy import estimate

M3, M4 = TIMINGS["cortex-m3"], TIMINGS["cortex-m4"]


def run(*lines: str, taken: tuple[int, ...] = (), wide: tuple[int, ...] = ()) -> list:
    """A straight-line program from QEMU-style disassembly ("ldr r0, [r1]"); `taken` marks the
    indices of branches that jump, `wide` the 32-bit instructions."""
    out, pc = [], 0
    for i, line in enumerate(lines):
        mnemonic, _, operands = line.partition(" ")
        size = 4 if i in wide else 2
        out.append((Insn(pc, size, mnemonic, operands.strip()), i in taken))
        pc += size
    return out


def cycles(*lines: str, timing=M4, **kw) -> int:
    return count_cycles(run(*lines, **kw), timing).cycles


@pytest.mark.parametrize(
    "mnemonic, op, conditional",
    [("bls", "b", True), ("blt", "b", True), ("bl", "bl", False), ("smlal", "smlal", False),
     ("sbcs", "sbc", False), ("movge.w", "mov", True), ("teq", "teq", False),
     ("ldrbne", "ldrb", True), ("ldr.w", "ldr", False), ("lsls", "lsl", False),
     ("cmpeq", "cmp", True), ("itete", "itete", False), ("push.w", "push", False)],
)  # fmt: skip
def test_mnemonics_split_into_operation_and_condition(mnemonic, op, conditional) -> None:
    insn = Insn(0, 2, mnemonic, "")
    assert (insn.op, insn.conditional) == (op, conditional)


@pytest.mark.parametrize("timing", [M3, M4], ids=["m3", "m4"])
def test_the_trms_load_store_examples(timing) -> None:
    """Section 3.3.2 of both TRMs: 'normally three cycles total' and so on."""
    assert cycles("ldr r0, [r1]", "ldr r1, [r2]", timing=timing) == 3
    assert cycles("ldr r0, [r1, r2]", "str r0, [r3, #20]", timing=timing) == 3
    assert cycles("ldr r0, [r1, r2]", "str r1, [r3, r2]", timing=timing) == 3
    assert cycles("ldr r0, [r1, r5]", "ldr r1, [r2]", "ldr r2, [r3, #4]", timing=timing) == 4
    assert cycles("ldrd r0, r1, [r2]", timing=timing) == 3  # "requires three cycles"
    assert cycles("ldm r0, {r1, r2, r3}", timing=timing) == 4  # three elements: 2+1+1
    assert cycles("stm r0, {r1, r2, r3, r4, r5, r6, r7, r8}", timing=timing) == 9  # eight: nine
    assert cycles("ldr pc, [r0]", timing=timing) == 5  # "at least five cycles"
    assert cycles("tbb [r0, r1]", timing=timing) == 6  # "at least six cycles"


def test_pipelining_and_its_exceptions() -> None:
    # the first LDR's result is the second one's address: no pipelining
    assert cycles("ldr r0, [r1]", "ldr r2, [r0]") == 4
    # nothing pipelines after a store; STR Rx,[Ry,#imm] is always one cycle
    assert cycles("str r0, [r1, #4]", "ldr r2, [r3]") == 3
    assert cycles("str r0, [r1, r2]", "str r3, [r1, r2]") == 4
    # an address from the data-processing instruction just before stalls a cycle
    assert cycles("adds r1, #4", "ldr r0, [r1]") == 4
    assert cycles("adds r2, #4", "ldr r0, [r1]") == 3
    assert cycles("adds r0, #4", "ldm r0, {r1, r2}") == 1 + 3 + 1  # the base of an LDM too


def test_branches_multiplies_and_it() -> None:
    p = M4.refill
    assert cycles("cmp r0, r1", "bne #0x40") == 2  # not taken: single cycle
    assert cycles("cmp r0, r1", "bne #0x40", taken=(1,)) == 2 + p
    assert cycles("b #0x40", taken=(0,)) == cycles("bl #0x40", taken=(0,)) == 1 + p
    assert cycles("pop {r4, r5, pc}") == 1 + 3 + p
    assert cycles("bx lr") == 1 + p
    assert cycles("movs r0, #1", "it eq", "moveq r0, #2") == 2  # IT folds onto a 16-bit one
    assert cycles("mov.w r0, #1", "it eq", "moveq r0, #2", wide=(0,)) == 3
    for line, m3, m4 in [("mla r0, r1, r2, r3", 2, 1), ("umull r0, r1, r2, r3", 5, 1),
                         ("smlal r0, r1, r2, r3", 7, 1), ("mul r0, r1, r2", 1, 1),
                         ("sdiv r0, r1, r2", 12, 12), ("smlad r0, r1, r2, r3", 1, 1)]:  # fmt: skip
        assert (cycles(line, timing=M3), cycles(line, timing=M4)) == (m3, m4), line


def test_unknown_instructions_are_counted_and_reported() -> None:
    c = count_cycles(run("vadd.f32 s0, s1, s2", "vmov r0, s0"), M4)
    assert c.cycles == 2 and dict(c.unmodelled) == {"vadd.f32": 1, "vmov": 1}


LOG = """\
----------------
IN: tpl_counter_start
0x00000100:  4770       bx       lr

Trace 0: 0x7f0000000100 [00800408/00000100/00000010/ff020200] tpl_counter_start
----------------
IN: model_invoke
0x00000200:  6808       ldr      r0, [r1]
0x00000202:  6851       ldr      r1, [r2, #4]
0x00000204:  2800       cmp      r0, #0
0x00000206:  d1fb       bne      #0x200

Trace 0: 0x7f0000000200 [00800408/00000200/00000010/ff020200] model_invoke
Trace 0: 0x7f0000000200 [00800408/00000200/00000010/ff020200] model_invoke
Trace 0: 0x7f0000000200 [00800408/00000200/00000010/ff020200] model_invoke
Stopped execution of TB chain before 0x7f0000000200 [00000200] model_invoke
----------------
IN: tp_profile
0x00000300:  f000 f800  bl       #0x400

Trace 0: 0x7f0000000300 [00800408/00000300/00000010/ff020200] tp_profile
----------------
IN: tpl_counter_elapsed
0x00000400:  699c       ldr      r4, [r3, #0x18]
0x00000402:  4770       bx       lr

Trace 0: 0x7f0000000400 [00800408/00000400/00000010/ff020200] tpl_counter_elapsed
cpu_io_recompile: rewound execution of TB to 00000400
----------------
IN: tpl_counter_elapsed
0x00000400:  699c       ldr      r4, [r3, #0x18]

Trace 0: 0x7f0000000500 [00800408/00000400/00000010/ff038201] tpl_counter_elapsed
----------------
IN: tpl_counter_elapsed
0x00000402:  4770       bx       lr

Trace 0: 0x7f0000000600 [00800408/00000402/00000010/ff020200] tpl_counter_elapsed
Trace 0: 0x7f0000000200 [00800408/00000200/00000010/ff020200] model_invoke
----------------
IN: tpl_link_run
0x00000700:  f000 f800  bl       #0x400

Trace 0: 0x7f0000000700 [00800408/00000700/00000010/ff020200] tpl_link_run
Trace 0: 0x7f0000000400 [00800408/00000400/00000010/ff020200] tpl_counter_elapsed
"""


def test_the_trace_reader_replays_the_inference_window() -> None:
    blocks = list(executed_blocks(LOG.splitlines()))
    # the block stopped before it ran yields nothing; the rewound one yields 0 instructions
    assert [len(insns) for _, insns in blocks] == [1, 4, 4, 1, 0, 1, 1, 4, 1, 2]
    stream = list(inference_stream(blocks))
    pcs = [i.pc for i, _ in stream]
    # three runs of the loop block, the nested profile call, then the caller's bl: the final
    # counter read and everything after it are outside
    assert pcs == [0x200, 0x202, 0x204, 0x206] * 2 + [0x300, 0x400, 0x402] + [
        0x200, 0x202, 0x204, 0x206, 0x700]  # fmt: skip
    jumps = [pc for (i, j), pc in zip(stream, pcs, strict=True) if j]
    assert jumps == [0x206, 0x206, 0x300, 0x402, 0x206]  # the last one: nothing after it
    # loop block: ldr 2, pipelined ldr 1, cmp 1, bne taken 1+P
    assert count_cycles(stream[:4], M4).cycles == 5 + M4.refill


def test_profile_calls_cut_the_stream_into_layers() -> None:
    """Each call into tp_profile ends a layer; the operator index is the constant moved into r0
    just before the call (None when r0 came from elsewhere, as in LOG)."""

    def block(sym, *lines, at):
        return sym, [
            Insn(at + 2 * k, 2, *(line.split(" ", 1) + [""])[:2]) for k, line in enumerate(lines)
        ]

    blocks = [
        block("tpl_counter_start", "bx lr", at=0x100),
        block("model_invoke", "ldr r1, [r2]", "movs r0, #5", "bl #0x300", at=0x200),
        block("tp_profile", "bl #0x400", at=0x300),
        block("tpl_counter_elapsed", "bx lr", at=0x400),
        block("tp_profile", "bx lr", at=0x302),
        block("model_invoke", "adds r1, #1", "movs r0, #9", "bl #0x300", at=0x206),
        block("tp_profile", "bl #0x400", at=0x300),
        block("tpl_counter_elapsed", "bx lr", at=0x400),
        block("tp_profile", "bx lr", at=0x302),
        block("tpl_link_run", "bl #0x400", at=0x500),
        block("tpl_counter_elapsed", "bx lr", at=0x400),
    ]
    marks: list = []
    c = count_cycles(inference_stream(blocks, marks=marks), M4, marks)
    assert marks == [(3, 5), (9, 9)]
    p = M4.refill
    # ldr 2, movs 1, bl 1+P | then the profile call (bl, bx, bx) and adds 1, movs 1, bl 1+P
    assert c.layers == [(5, 3, 2 + 1 + 1 + p), (9, 6, 4 * (1 + p) + 2)]
    assert c.instructions == 13  # then the second call (bl, bx, bx) and the caller's final bl
    marks = []
    count_cycles(inference_stream(executed_blocks(LOG.splitlines()), marks=marks), M4, marks)
    assert marks == [(8, None)]  # r0 was loaded from memory there


def test_estimate_on_modelled_cycles() -> None:
    b = get_board("mps2-an386")
    e = estimate(b, 100_000, cycles=138_000, cycles_basis="modelled")
    assert (e.cycles, e.cycles_basis) == (138_000, "modelled")
    assert e.time_ms == pytest.approx(138_000 / 25e6 * 1e3)
    assert e.energy_uj == pytest.approx(b.power.energy_uj(138_000))


def test_boards_without_a_model_are_refused_clearly() -> None:
    assert timing_for("cortex-m7") is None and timing_for("cortex-m4") is M4
    r = CliRunner().invoke(main, ["cycles", "no.tflite", "--board", "mps2-an500"])
    assert r.exit_code == 2 and "No cycle model for mps2-an500" in r.output


@pytest.mark.slow
def test_traced_instructions_match_the_firmware_count(digits_tflite, tmp_path) -> None:
    """Under QEMU: the trace window replays the instructions the firmware's -icount counter
    saw (within the counter's 40-instruction tick and its own call), and the model's cycles
    are what the time and energy are then estimated on."""
    out = tmp_path / "c.json"
    r = CliRunner().invoke(
        main, ["cycles", str(digits_tflite), "--board", "mps2-an386", "--json", str(out)]
    )
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    assert abs(rep["traced_instructions"] - rep["firmware_instructions"]) <= 200
    assert rep["traced_instructions"] < rep["cycles"] < 2 * rep["traced_instructions"]
    assert sum(rep["by_class"].values()) == rep["cycles"] and not rep["unmodelled"]
    e = rep["estimate"]
    assert e["cycles"] == rep["cycles"] and e["cycles_basis"] == rep["basis"]
    assert e["time_ms"] == pytest.approx(rep["cycles"] / 25e6 * 1e3)
    assert "DDI 0439D" in rep["basis"] and "modelled" in r.output
    # per layer: each row's traced instructions agree with the firmware's count for its operator
    layers = rep["layers"]
    assert layers and all(row["op"] is not None for row in layers)
    for row in layers:
        assert abs(row["instructions"] - row["firmware_instructions"]) <= max(
            100, 0.02 * row["instructions"]
        )
        assert row["cycles"] >= row["instructions"]
    assert sum(row["instructions"] for row in layers) <= rep["traced_instructions"]
