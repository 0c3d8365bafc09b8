"""Latency and energy per inference, estimated from instruction counts and a board's figures.

Nothing here is measured on silicon. QEMU counts instructions, not cycles, and tinypipe has no
per-core cycle model, so an instruction is taken as one cycle: on the in-order Cortex-M cores most
ALU instructions take one cycle, while loads, multiplies, divisions and taken branches take more,
so the times are lower bounds of the order of the truth rather than predictions.

Energy comes from one of three kinds of published figure, each cited in the board registry:

- `PowerFigure`: a chip's run-mode supply current at a stated clock and voltage, from its
  datasheet; energy is that supply power times the time the cycles take at that clock.
- `CorePowerFigure`: for FPGA prototyping boards, which have no chip, the core vendor's published
  dynamic-power efficiency of the same core in silicon at a named process. That is core-only
  power (no memories, buses, peripherals or leakage) on a different technology, never the
  board's draw; energy is power per MHz times cycles (1 mW/MHz = 1 nJ per cycle).
- `SameCoreChipFigure`: for an FPGA image whose core has no published vendor figure, the
  datasheet run current of a production chip built on the same core; energy as for a chip, at
  that chip's operating point. A whole MCU's draw, but another MCU's, never the board's.

Boards with neither figure have no energy estimate, and say why.

    >>> from tinypipe.device.boards import get_board
    >>> e = estimate(get_board("mps2-an386"), 25_000)
    >>> e.time_ms
    1.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

CYCLES_BASIS = "instructions counted by QEMU -icount, taken as one cycle each (no cycle model)"


@dataclass(frozen=True)
class PowerFigure:
    """A chip's run-mode supply current at a stated clock and supply voltage, from its datasheet."""

    current_ma: float  # supply current in Run mode (typical where the datasheet says so)
    at_hz: int  # the core clock that current was characterised at
    supply_v: float  # the supply voltage the energy is computed with
    conditions: str  # what the datasheet's figure assumes (peripherals, memory, temperature)
    document: str  # datasheet name and revision
    table: str  # table or section in that document
    found: str  # where the figure was read (this registry cites only what was read)

    @property
    def power_mw(self) -> float:
        return self.supply_v * self.current_ma

    def energy_uj(self, cycles: int) -> float:
        """Energy of `cycles` core cycles at this operating point: V * I * cycles / f, in µJ."""
        return self.power_mw * cycles / self.at_hz * 1e3

    def summary(self) -> str:
        return f"{self.current_ma:g} mA at {self.at_hz / 1e6:g} MHz, {self.supply_v:g} V"

    @property
    def reference(self) -> str:
        """Document and table, short: the full citation is in `citation()`."""
        return f"{self.document.split(' (')[0]}, {self.table.split(',')[0]}"

    def citation(self) -> str:
        return (
            f"{self.summary()}: {self.document}, {self.table} ({self.conditions}); "
            f"read in {self.found}"
        )

    basis = "datasheet run current"
    kind = "chip supply current"


@dataclass(frozen=True)
class SameCoreChipFigure(PowerFigure):
    """For an FPGA image: a production chip with the same core, and that chip's datasheet run
    current. Energy is computed as for the chip itself (`PowerFigure.energy_uj`)."""

    chip: str = ""  # the chip the figure belongs to, e.g. "STM32F405"
    core: str = ""  # the core it shares with the board, e.g. "Cortex-M4"

    def summary(self) -> str:
        return f"{super().summary()} ({self.chip}, same core)"

    basis = "run current of a production chip with the same core, not the board's draw"
    kind = "same-core chip supply current"


@dataclass(frozen=True)
class CorePowerFigure:
    """A core's dynamic power per MHz in silicon, from the core vendor's published efficiency
    (Dhrystone MIPS per mW at a named process, and the core's Dhrystone MIPS per MHz)."""

    core: str  # e.g. "Cortex-M3"
    dmips_per_mw: float  # published power efficiency at `process`
    dmips_per_mhz: float  # published Dhrystone performance per MHz of the same core
    process: str  # the silicon process the efficiency was stated for
    conditions: str  # what the figure covers (core only, dynamic power)
    document: str  # where each number is published, with its date
    table: str  # section of those documents
    found: str  # where the figures were read

    @property
    def mw_per_mhz(self) -> float:
        """(DMIPS/MHz) / (DMIPS/mW) = mW per MHz, which is also nJ per cycle."""
        return self.dmips_per_mhz / self.dmips_per_mw

    def energy_uj(self, cycles: int) -> float:
        """Energy of `cycles` core cycles: mW/MHz is nJ per cycle, whatever the clock; in µJ."""
        return self.mw_per_mhz * cycles * 1e-3

    def summary(self) -> str:
        return f"{self.mw_per_mhz * 1e3:g} µW/MHz ({self.core} core only, {self.process})"

    @property
    def reference(self) -> str:
        return f"{self.document.split(' (')[0]}, {self.table.split(';')[0]}"

    def citation(self) -> str:
        return (
            f"{self.summary()} = {self.dmips_per_mhz:g} DMIPS/MHz / {self.dmips_per_mw:g} "
            f"DMIPS/mW ({self.conditions}): {self.document}; in {self.table}; read in {self.found}"
        )

    basis = "dynamic power of the same core in silicon, not the board's draw"
    kind = "core dynamic power per MHz"


@dataclass(frozen=True)
class Estimate:
    """Cycles, time and energy of one inference (or one layer) on one board."""

    board: str
    cycles: int
    cycles_basis: str
    clock_hz: int
    time_ms: float  # at the board's clock
    energy_uj: float | None  # None: the board has no documented power figure
    energy_basis: str  # the figure and its source, or why there is none

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [
            f"estimate: {self.time_ms:,.3f} ms per inference at {self.clock_hz / 1e6:g} MHz "
            f"({self.cycles:,} cycles = {self.cycles_basis})"
        ]
        if self.energy_uj is None:
            out.append(f"energy: unavailable for {self.board}: {self.energy_basis}")
        else:
            out.append(
                f"energy (estimate): {self.energy_uj:,.2f} µJ per inference ({self.energy_basis})"
            )
        return out


def energy_basis(board) -> str:
    """What an energy figure for `board` rests on, or why there is none."""
    p = board.power
    if p is None:
        return board.power_missing or "no datasheet power figure in the board registry"
    return f"{p.summary()}, {p.basis}; {p.reference} (full source: `tinypipe boards`)"


def estimate(
    board, instructions: int | float | None, cycles: int | None = None, cycles_basis: str = ""
) -> Estimate | None:
    """Time and energy of `instructions` on `board`; None where there is nothing to estimate
    (no count, or a board without a clock such as the host). With `cycles` (a cycle model's
    count for the same run, `tinypipe.device.cycles`) those are used instead, with their basis."""
    if not instructions or not board.clock_hz:
        return None
    n = int(round(instructions)) if cycles is None else int(cycles)
    p = board.power
    return Estimate(
        board=board.name,
        cycles=n,
        cycles_basis=CYCLES_BASIS if cycles is None else cycles_basis,
        clock_hz=board.clock_hz,
        time_ms=n / board.clock_hz * 1e3,
        energy_uj=None if p is None else p.energy_uj(n),
        energy_basis=energy_basis(board),
    )


def layer_estimates(board, layer_counts: list[int | None]) -> list[dict]:
    """Per layer: time in ms at the board clock and energy in µJ (None where unavailable)."""
    rows = []
    for n in layer_counts:
        e = estimate(board, n)
        rows.append({"time_ms": e.time_ms if e else None, "energy_uj": e.energy_uj if e else None})
    return rows
