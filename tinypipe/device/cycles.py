"""Cycles of one inference on a Cortex-M3 or Cortex-M4, modelled from the instructions QEMU
executed and the core's Technical Reference Manual timings.

QEMU counts instructions, not cycles. Run with `-d in_asm,exec,nochain` it also logs every
translated block (its instructions) and every block it executes, so the exact instruction
stream of an inference can be replayed through the TRM's instruction set summary (Cortex-M3:
Arm 100165_0201, Table 3-1; Cortex-M4: Arm DDI 0439D, Tables 3-1 and 3-2) and its load/store
pairing rules (section 3.3.2 of both):

- data processing, multiplies (Cortex-M4), DSP, extends, bit fields: 1 cycle;
- a single load or store: 2 cycles, but `STR Rx,[Ry,#imm]` is always 1, and an LDR pipelines
  into a following LDR or STR (one cycle less) unless its result is that one's address;
- any load or store whose address comes from the instruction just before, when that one is
  data processing: 1 stall cycle (no forwarding path);
- LDRD/STRD 1+N (3), LDM/STM/PUSH/POP 1+N, never pipelined with their neighbours;
- a branch, or any write to the PC: +P for the pipeline refill; a conditional branch not
  taken (seen in the trace: the next block starts right after it) costs 1;
- TBB/TBH 2 for the load, 1 for the add, then P; IT folds onto a preceding 16-bit instruction.

Where the TRM gives a range the model takes its upper end: P = 3 (the refill it uses in its
own LDR PC and TBB examples; 1 to 3 in the table), a divide 12 (2 to 12), the Cortex-M3's long
multiplies 5 and 7 (3 to 5, 4 to 7). Wait states, unaligned accesses and bus contention are not
modelled: the TRM's counts are for a zero-wait-state system. Instructions the tables do not
cover (floating point) count 1 cycle each and are reported as unmodelled.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tinypipe.errors import TinypipeError

_CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
          "gt", "le", "al")  # fmt: skip
_REGS = {f"r{i}": i for i in range(13)} | {"sb": 9, "sl": 10, "fp": 11, "ip": 12, "sp": 13,
                                             "lr": 14, "pc": 15}  # fmt: skip

_LOADS = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrt", "ldrbt", "ldrht", "ldrsbt", "ldrsht",
          "ldrex", "ldrexb", "ldrexh"}  # fmt: skip
_STORES = {"str", "strb", "strh", "strt", "strbt", "strht", "strex", "strexb", "strexh"}
_MULTI = {"ldm", "ldmia", "ldmfd", "ldmdb", "ldmea", "stm", "stmia", "stmea", "stmdb", "stmfd",
          "push", "pop"}  # fmt: skip
_BRANCH = {"b", "bl", "bx", "blx", "cbz", "cbnz", "tbb", "tbh"}
_MUL_LONG = {"smull", "umull"}
_MUL_LONG_ACC = {"smlal", "umlal"}
_MUL_ACC = {"mla", "mls"}
_DIV = {"sdiv", "udiv"}
_NO_DEST = {"cmp", "cmn", "tst", "teq", "it", "nop", "dsb", "dmb", "isb", "sev", "wfi", "wfe",
            "cpsid", "cpsie", "msr", "bkpt", "svc", "clrex"}  # fmt: skip
# base mnemonics that take an S (set flags) suffix in Thumb-2
_FLAG_SETTING = {"adc", "add", "and", "asr", "bic", "eor", "lsl", "lsr", "mov", "mul", "mvn",
                 "orn", "orr", "ror", "rrx", "rsb", "sbc", "sub", "smull", "umull", "smlal",
                 "umlal", "mla", "neg"}  # fmt: skip
_KNOWN = (
    _LOADS | _STORES | _MULTI | _BRANCH | _MUL_LONG | _MUL_LONG_ACC | _MUL_ACC | _DIV | _NO_DEST
    | _FLAG_SETTING
    | {"ldrd", "strd", "movw", "movt", "adr", "addw", "subw", "ssat", "usat", "clz", "rbit", "rev",
       "rev16", "revsh", "sxtb", "sxth", "uxtb", "uxth", "sxtb16", "uxtb16", "sxtab", "sxtah",
       "sxtab16", "uxtab", "uxtah", "uxtab16", "ubfx", "sbfx", "bfc", "bfi", "mrs", "pkhbt",
       "pkhtb", "sel", "usad8", "usada8", "ssat16", "usat16", "smmla", "smmls", "smmul",
       "smmlar", "smmlsr", "smmulr", "smlabb", "smlabt", "smlatb", "smlatt", "smlalbb",
       "smlalbt", "smlaltb", "smlaltt", "smlald", "smlaldx", "smulbb", "smulbt", "smultb",
       "smultt", "smulwb", "smulwt", "smusd", "smusdx", "smlawb", "smlawt", "smlad", "smladx",
       "smlsd", "smlsdx", "smlsld", "smlsldx", "smuad", "smuadx", "umaal", "qadd", "qsub",
       "qdadd", "qdsub", "qadd8", "qadd16", "qsub8", "qsub16", "qasx", "qsax", "sadd8",
       "sadd16", "ssub8", "ssub16", "sasx", "ssax", "shadd8", "shadd16", "shsub8", "shsub16",
       "shasx", "shsax", "uadd8", "uadd16", "usub8", "usub16", "uasx", "usax", "uhadd8",
       "uhadd16", "uhsub8", "uhsub16", "uhasx", "uhsax", "uqadd8", "uqadd16", "uqsub8",
       "uqsub16", "uqasx", "uqsax", "ite", "itt", "itee", "itte", "itet", "ittt", "iteee",
       "ittee", "itete", "ittte", "iteet", "ittet", "itett", "itttt"}
)  # fmt: skip


@dataclass(frozen=True)
class Insn:
    """One Thumb instruction as QEMU disassembles it."""

    pc: int
    size: int  # 2 or 4 bytes
    mnemonic: str  # as printed, e.g. "ldr.w", "bne", "movge"
    operands: str  # e.g. "r3, [r2, #0xd88]"

    @cached_property
    def op(self) -> str:
        """The base operation: 'ldr.w' -> 'ldr', 'bne' -> 'b', 'movge' -> 'mov', 'adds' -> 'add'."""
        return _split(self.mnemonic)[0]

    @cached_property
    def conditional(self) -> bool:
        return _split(self.mnemonic)[1] not in ("", "al")

    @cached_property
    def kind(self) -> str:
        """The timing class: load, store, branch, multiply, data processing, ..."""
        return _class(self)

    def registers(self, text: str) -> list[int]:
        regs = []
        for tok in re.findall(r"[a-z]+\d*(?:-[a-z]+\d*)?", text):
            lo, _, hi = tok.partition("-")
            if lo in _REGS and hi in _REGS:
                regs += range(_REGS[lo], _REGS[hi] + 1)
            elif lo in _REGS:
                regs.append(_REGS[lo])
        return regs

    @cached_property
    def address_registers(self) -> set[int]:
        """Registers the address of a load or store is computed from (inside the brackets)."""
        m = re.search(r"\[([^\]]*)\]", self.operands)
        if m:
            return set(self.registers(m.group(1)))
        if self.op in _MULTI:  # LDM/STM Rn{!}, {list}; PUSH and POP address from SP
            return (
                {13}
                if self.op in ("push", "pop")
                else set(self.registers(self.operands.split("{")[0]))
            )
        return set()

    @cached_property
    def destinations(self) -> set[int]:
        """Registers written (writeback aside): the first operand(s), or a load-multiple's list."""
        op = self.op
        if op in ("pop", "ldm", "ldmia", "ldmfd", "ldmdb", "ldmea"):
            m = re.search(r"\{([^}]*)\}", self.operands)
            return set(self.registers(m.group(1))) if m else set()
        if op in _NO_DEST or op in _STORES or op in _MULTI or op in _BRANCH or op == "strd":
            return set()
        regs = self.registers(self.operands.split("[")[0])
        two = op in _MUL_LONG | _MUL_LONG_ACC or op == "ldrd" or op.startswith(("smlal", "umaal"))
        return set(regs[:2] if two else regs[:1])

    @cached_property
    def list_length(self) -> int:
        m = re.search(r"\{([^}]*)\}", self.operands)
        return len(self.registers(m.group(1))) if m else 0


def _split(mnemonic: str) -> tuple[str, str]:
    """'movge.w' -> ('mov', 'ge'); 'bls' -> ('b', 'ls'); 'smlal' -> ('smlal', '')."""
    m = mnemonic.split(".")[0]
    if re.fullmatch(r"it[te]{0,3}", m):
        return m, ""
    best = None
    for n in range(len(m), 0, -1):
        base, rest = m[:n], m[n:]
        if base not in _KNOWN:
            continue
        if base in _FLAG_SETTING and rest.startswith("s"):
            rest = rest[1:]
        if rest == "" or rest in _CONDS:
            best = (base, rest)
            break
    return best if best else (m, "")


@dataclass(frozen=True)
class CoreTiming:
    """What the model takes from one core's TRM."""

    core: str  # board cpu name, e.g. "cortex-m4"
    document: str
    sections: str
    mla: int  # MLA, MLS
    mul_long: int  # SMULL, UMULL
    mul_long_acc: int  # SMLAL, UMLAL
    divide: int = 12  # SDIV, UDIV: 2 to 12, the upper end
    refill: int = 3  # P: 1 to 3, the upper end (the TRM's own worked examples use 3)


TIMINGS = {
    "cortex-m3": CoreTiming(
        core="cortex-m3",
        document="Arm Cortex-M3 Processor Technical Reference Manual, Arm 100165_0201_02_en (r2p1)",
        sections="Table 3-1 Cortex-M3 instruction set summary; 3.3.2 Load/store timings",
        mla=2,
        mul_long=5,
        mul_long_acc=7,
    ),
    "cortex-m4": CoreTiming(
        core="cortex-m4",
        document="Arm Cortex-M4 Processor Technical Reference Manual, Arm DDI 0439D (r0p1)",
        sections="Table 3-1 Cortex-M4 instruction set summary, Table 3-2 Cortex-M4 DSP "
        "instruction set summary; 3.3.2 Load/store timings",
        mla=1,
        mul_long=1,
        mul_long_acc=1,
    ),
}


def timing_for(cpu: str) -> CoreTiming | None:
    """The TRM timing for a board's cpu, or None where there is no model (M0, M7, M55, host)."""
    return TIMINGS.get(cpu)


@dataclass
class CycleCount:
    """Modelled cycles of an instruction stream, with where they come from."""

    instructions: int = 0
    cycles: int = 0
    by_class: Counter = field(default_factory=Counter)  # class -> cycles
    unmodelled: Counter = field(default_factory=Counter)  # mnemonic -> executions (1 cycle each)
    # per profiled layer, in call order: (operator index or None, instructions, cycles)
    layers: list[tuple[int | None, int, int]] = field(default_factory=list)

    @property
    def cycles_per_instruction(self) -> float:
        return self.cycles / self.instructions if self.instructions else 0.0


def _class(insn: Insn) -> str:
    op = insn.op
    if op in _LOADS:
        return "load"
    if op in _STORES:
        return "store"
    if op in ("ldrd", "strd"):
        return "load/store double"
    if op in _MULTI:
        return "load/store multiple"
    if op in _BRANCH:
        return "branch"
    if op in _DIV:
        return "divide"
    if op in _MUL_LONG | _MUL_LONG_ACC | _MUL_ACC or op == "mul":
        return "multiply"
    if op.startswith("it"):
        return "if-then"
    if op in _KNOWN:
        return "data processing"
    return "unmodelled"


def count_cycles(
    stream: Iterable[tuple[Insn, bool]],
    timing: CoreTiming,
    marks: list[tuple[int, int | None]] | None = None,
) -> CycleCount:
    """Cycles of `stream`: each executed instruction with whether the instruction after it in
    the stream is not the next one in memory (a taken branch). `marks` (filled by
    `inference_stream` as the stream is read) cut it into layers: (position, operator index)."""
    p = timing.refill
    out = CycleCount()
    marks = [] if marks is None else marks
    next_mark, at = 0, (0, 0)
    prev: Insn | None = None
    prev_class = ""
    for insn, jumped in stream:
        cls = insn.kind
        op = insn.op
        writes_pc = 15 in insn.destinations
        if cls == "load":
            c = 2
            if prev_class == "load" and not (prev.destinations & insn.address_registers):
                c = 1  # pipelined behind the previous LDR
            if writes_pc:
                c += p
        elif cls == "store":
            c = 2
            if len(insn.address_registers) < 2:
                c = 1  # STR Rx,[Ry,#imm] is always one cycle
            elif prev_class == "load" and not (prev.destinations & insn.address_registers):
                c = 1  # a register-offset store pipelines only behind an LDR
        elif cls == "load/store double":
            c = 3
        elif cls == "load/store multiple":
            c = 1 + insn.list_length + (p if op in ("pop", "ldm", "ldmia", "ldmfd", "ldmdb") and
                                        writes_pc else 0)  # fmt: skip
        elif cls == "branch":
            if op in ("tbb", "tbh"):
                c = 3 + p
            elif op in ("cbz", "cbnz") or (op == "b" and insn.conditional):
                c = 1 + (p if jumped else 0)
            else:
                c = 1 + p
        elif cls == "divide":
            c = timing.divide
        elif cls == "multiply":
            c = {"mul": 1}.get(op) or (
                timing.mla if op in _MUL_ACC else
                timing.mul_long if op in _MUL_LONG else timing.mul_long_acc
            )  # fmt: skip
        elif op == "isb":
            c = 1 + p  # ISB: 1 + B, B at least a pipeline refill
        elif cls == "if-then":
            c = 0 if prev is not None and prev.size == 2 else 1  # folds onto a 16-bit one
        else:
            c = 1 + (p if writes_pc else 0)
            if cls == "unmodelled":
                out.unmodelled[insn.mnemonic] += 1
        if (
            cls in ("load", "store", "load/store double", "load/store multiple")
            and prev_class in ("data processing", "multiply")
            and prev.destinations & insn.address_registers
        ):
            c += 1  # no forwarding from a data-processing result to an address
        out.instructions += 1
        out.cycles += c
        out.by_class[cls] += c
        prev, prev_class = insn, cls
        while next_mark < len(marks) and marks[next_mark][0] == out.instructions:
            out.layers.append((marks[next_mark][1], out.instructions - at[0], out.cycles - at[1]))
            at, next_mark = (out.instructions, out.cycles), next_mark + 1
    return out


# ----------------------------------------------------------------------------- QEMU trace

_INSN = re.compile(r"^0x([0-9a-f]{8}):  ([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s+(\S+)\s*(.*)$")
_TRACE = re.compile(
    r"^Trace \d+: (0x[0-9a-f]+) \[[0-9a-f]+/([0-9a-f]+)/[0-9a-f]+/[0-9a-f]+\] (\S*)"
)
_REWOUND = re.compile(r"^cpu_io_recompile: rewound execution of TB to ([0-9a-f]+)")
# QEMU logs a block's "Trace" line before its entry checks the instruction budget; a block that
# exits there ran none of its instructions and is logged again when it runs.
_STOPPED = re.compile(r"^Stopped execution of TB chain before (0x[0-9a-f]+) ")


def executed_blocks(lines: Iterable[str]) -> Iterator[tuple[str, list[Insn]]]:
    """(symbol, instructions executed) per block QEMU ran, from an `-d in_asm,exec,nochain`
    log. A block rewound at an I/O access yields only the instructions before it; a block
    stopped before its first instruction yields nothing."""
    translated: dict[str, list[Insn]] = {}  # host block address -> instructions
    fresh: list[Insn] | None = None  # the block just disassembled, not yet run
    pending: tuple[str, list[Insn]] | None = None
    pending_host = ""
    for line in lines:
        m = _INSN.match(line)
        if m:
            if fresh is None:
                fresh = []
            size = 4 if m.group(3) else 2
            fresh.append(Insn(int(m.group(1), 16), size, m.group(4), m.group(5).strip()))
            continue
        m = _TRACE.match(line)
        if m:
            if pending:
                yield pending
            host, pc = m.group(1), int(m.group(2), 16)
            if fresh and fresh[0].pc == pc:
                translated[host] = fresh
            fresh = None
            insns = translated.get(host)
            if insns is None:
                raise TinypipeError(f"QEMU trace: block at {pc:#x} ran before it was disassembled.")
            pending, pending_host = (m.group(3), insns), host
            continue
        m = _STOPPED.match(line)
        if m:
            if pending and m.group(1) == pending_host:
                pending = None
            continue
        m = _REWOUND.match(line)
        if m and pending:
            stop = int(m.group(1), 16)
            pending = (pending[0], [i for i in pending[1] if i.pc < stop])
        elif line.startswith("IN:"):
            fresh = None
    if pending:
        yield pending


def inference_stream(
    blocks: Iterable[tuple[str, list[Insn]]],
    start: str = "tpl_counter_start",
    stop: str = "tpl_counter_elapsed",
    nested: str = "tp_profile",
    marks: list[tuple[int, int | None]] | None = None,
) -> Iterator[tuple[Insn, bool]]:
    """The instructions between the firmware's counter start and its final read (the per-layer
    reads from `tp_profile` in between are inside the window, as they are for the counter),
    each with whether the next instruction run is not the next one in memory. Each call into
    `nested` (at the end of a layer) is appended to `marks`: (instructions before it, the
    operator index the caller passed in r0 when an immediate move shows it, else None)."""
    state = "before"
    last: Insn | None = None
    recent: list[Insn] = []  # the last few instructions, for the call's r0
    seen = 0
    prev_sym = ""
    for sym, insns in blocks:
        if state == "before":
            state = "started" if sym == start else state
        elif state == "started" and sym != start:
            state = "in"
        if state == "in":
            if sym == stop and prev_sym not in (nested, stop):
                break
            if sym == nested and prev_sym not in (nested, stop) and marks is not None:
                marks.append((seen, _r0_immediate(recent)))
            for insn in insns:
                if last is not None:
                    yield last, insn.pc != last.pc + last.size
                last = insn
                seen += 1
                recent = [*recent[-3:], insn]
        prev_sym = sym
    if last is not None:
        yield last, False


def _r0_immediate(recent: list[Insn]) -> int | None:
    """The constant the last write to r0 among `recent` put there, if it was a move of one."""
    for insn in reversed(recent):
        if 0 in insn.destinations:
            m = re.fullmatch(r"r0, #(-?(?:0x[0-9a-f]+|\d+))", insn.operands)
            return int(m.group(1), 0) if m and insn.op in ("mov", "movw") else None
    return None


def trace_inference(
    board, elf: str | Path, sample: bytes, timeout: float = 600.0
) -> tuple[CycleCount, int, list[int | None] | None]:
    """Boot `elf` on `board` under QEMU with block tracing, run one inference on `sample` (the
    packed input bytes) and model its cycles with the board core's TRM timings. Returns the
    model's count, the firmware's own instruction count for the same inference, and the
    firmware's per-operator counts (None when it cannot profile)."""
    from tinypipe.device.runners import (
        LinkError,
        ProcessTransport,
        Runner,
        qemu_binary,
        qemu_command,
    )

    timing = timing_for(board.cpu)
    if timing is None or not board.emulated:
        raise TinypipeError(
            f"No cycle model for {board.name} ({board.cpu}).",
            "Cycle models exist for the Cortex-M3 and Cortex-M4 boards under QEMU: "
            + ", ".join(sorted(TIMINGS)) + ".",
        )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="tinypipe-cycles-") as tmp:
        log = Path(tmp) / "qemu.log"
        cmd = qemu_command(board, Path(elf).resolve())
        cmd[0] = qemu_binary()
        cmd += ["-d", "in_asm,exec,nochain", "-D", str(log)]
        runner = Runner(ProcessTransport(cmd, describe=f"QEMU {board.qemu_machine} (traced)"),
                        board, "instructions", 1e9 / board.qemu_systick_hz, timeout, 30.0)  # fmt: skip
        try:
            _, firmware_count = runner.infer(sample)
            try:
                layer_counts = runner.profile()
            except LinkError:
                layer_counts = None
        finally:
            runner.close()
        marks: list[tuple[int, int | None]] = []
        with open(log, errors="replace") as lines:
            stream = inference_stream(executed_blocks(lines), marks=marks)
            result = count_cycles(stream, timing, marks)
    if not result.instructions:
        raise TinypipeError(f"The QEMU trace of {board.name} holds no inference window.")
    return result, firmware_count, layer_counts


def basis(timing: CoreTiming) -> str:
    """How modelled cycles were counted, for reports."""
    return (
        f"cycles modelled from QEMU's executed-instruction trace with the {timing.document}, "
        f"{timing.sections} (zero wait states; ranges at their upper end: P = {timing.refill}, "
        f"divide {timing.divide})"
    )
