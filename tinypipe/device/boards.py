"""The boards tinypipe deploys to: CPU, FPU, memory map, clock, how they run and flash.

Each board is a `Board` in `BOARDS`. Its PlatformIO side (compiler flags, linker script,
console driver, upload commands) lives in the shipped platform folder
`firmware/platforms/tinypipe/boards/<name>.json`; tests keep the two in agreement.

    >>> from tinypipe.device.boards import get_board
    >>> get_board("mps2-an386").qemu_machine
    'mps2-an386'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tinypipe.errors import TinypipeError

from .energy import CorePowerFigure, PowerFigure, SameCoreChipFigure

KiB = 1024
MiB = 1024 * 1024


@dataclass(frozen=True)
class MemoryRegion:
    """One address range of a board, as named in its linker script (FLASH, RAM, CCM)."""

    name: str
    origin: int
    size: int
    kind: str  # "flash" (code, constants, .data load image) or "ram"
    used: bool = True  # False: exists on the chip, but tinypipe's firmware leaves it alone
    note: str = ""

    def contains(self, address: int) -> bool:
        return self.origin <= address < self.origin + self.size


@dataclass(frozen=True)
class Board:
    """A deployment target. Sizes are in bytes, clocks in Hz."""

    name: str  # board id: PlatformIO board and env name
    title: str
    vendor: str
    cpu: str  # "cortex-m4", or "native"
    fpu: str | None  # e.g. "fpv4-sp-d16" (single precision); None: no FPU
    clock_hz: int  # the core clock tinypipe's firmware runs at (0: host)
    max_clock_hz: int  # the chip's top clock (what the datasheet advertises)
    flash_size: int  # total on-chip flash (0: host, no budget)
    ram_size: int  # total on-chip RAM, all regions
    regions: tuple[MemoryRegion, ...]
    stack_size: int  # bytes reserved for the stack (a linker section in RAM)
    console: str  # how the device link talks
    runs_on: str  # "native" (host process) or "qemu"
    qemu_machine: str | None = None
    qemu_systick_hz: int | None = None  # SysTick clock in QEMU (instructions = ticks*1e9/hz)
    upload_protocols: tuple[str, ...] = ()  # first one is the default (`pio run -t upload`)
    hardware_protocol: str | None = None  # used for a real board (`tinypipe flash --port`)
    notes: tuple[str, ...] = field(default_factory=tuple)
    # the published figure energy estimates rest on: a chip's datasheet run current, or (FPGA
    # images, which have no chip) the core vendor's dynamic power per MHz of the same core, or
    # failing that the datasheet run current of a production chip with the same core
    power: PowerFigure | CorePowerFigure | None = None
    power_missing: str = ""  # why there is no power figure (then energy is unavailable)

    @property
    def emulated(self) -> bool:
        return self.runs_on == "qemu"

    @property
    def is_host(self) -> bool:
        return self.runs_on == "native"

    @property
    def default_protocol(self) -> str:
        return self.upload_protocols[0]

    def region(self, name: str) -> MemoryRegion:
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def flash_region(self) -> MemoryRegion | None:
        return next((r for r in self.regions if r.kind == "flash" and r.used), None)

    @property
    def ram_region(self) -> MemoryRegion | None:
        """The RAM region holding .data, .bss (the arena) and the stack."""
        return next((r for r in self.regions if r.kind == "ram" and r.used), None)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "vendor": self.vendor,
            "cpu": self.cpu,
            "fpu": self.fpu,
            "clock_hz": self.clock_hz,
            "max_clock_hz": self.max_clock_hz,
            "flash_size": self.flash_size,
            "ram_size": self.ram_size,
            "regions": [
                {
                    "name": r.name,
                    "origin": r.origin,
                    "size": r.size,
                    "kind": r.kind,
                    "used": r.used,
                    "note": r.note,
                }
                for r in self.regions
            ],
            "stack_size": self.stack_size,
            "console": self.console,
            "runs_on": self.runs_on,
            "qemu_machine": self.qemu_machine,
            "qemu_systick_hz": self.qemu_systick_hz,
            "upload_protocols": list(self.upload_protocols),
            "hardware_protocol": self.hardware_protocol,
            "notes": list(self.notes),
            "power": None
            if self.power is None
            else {"kind": self.power.kind, "summary": self.power.summary(), **asdict(self.power)},
            "power_missing": self.power_missing or None,
        }


def _core_name(cpu: str) -> str:
    """'cortex-m55' -> 'Cortex-M55'."""
    return "Cortex-" + cpu.split("-")[1].upper()


def _fpga_power_missing(core: str, chips_searched: str) -> str:
    return (
        f"an FPGA prototyping image of the {core} (no chip, so no datasheet run current); no "
        f"Arm-published power figure for the {core} core (power per MHz, or DMIPS/mW with "
        f"DMIPS/MHz, at a named process) and no run-current table of a {core} chip "
        f"({chips_searched}) was found in the sources searched"
    )


# STM32F405: ST's datasheet Table 20 (typical Run-mode current, peripherals off) as quoted in a
# public board-design note; the 3.3 V supply is the Netduino's rail and inside Table 14's range.
_STM32F405_RUN = PowerFigure(
    current_ma=40.0,
    at_hz=168_000_000,
    supply_v=3.3,
    conditions="Run mode, typical, TA = 25 °C, all peripherals disabled, code with data processing "
    "from flash with the ART accelerator on, or from RAM; VDD 1.8-3.6 V per Table 14",
    document="STM32F405xx/STM32F407xx datasheet, ST DocID022152 (Table 14 read in Rev 4; the "
    "revision behind the quoted Table 20 value is not stated)",
    table="Table 20, Typical and maximum current consumption in Run mode, code with data "
    "processing running from flash memory (ART accelerator enabled) or RAM",
    found="the lendzeg/stm32f405-devboard repository, docs/power_consumption.md (Table 20 and "
    "Figure 24: about 40 mA at 168 MHz, peripherals disabled), as the datasheet pages holding "
    "Table 20 are not among the stored copies (pages 76-77 of Rev 4 and 78 of Rev 8 are); "
    "Table 14 on a DocID022152 Rev 4 datasheet copy, page 77/185",
)

# nRF51822 (micro:bit v1): the Product Specification's CPU run current as quoted by a micro:bit
# runtime developer; the 3.3 V is the board's regulated rail when powered from USB.
_NRF51822_RUN = PowerFigure(
    current_ma=4.4,
    at_hz=16_000_000,
    supply_v=3.3,
    conditions="CPU running, as quoted with no further conditions (the nRF51822's CPU runs at its "
    "one 16 MHz clock); supply 3.3 V from the micro:bit's regulator when powered from USB, inside "
    "the 1.8-3.6 V range the nRF51 datasheet states (tech.microbit.org, Power Supply)",
    document="nRF51822 Product Specification, Nordic Semiconductor (version not stated by the "
    "quoting source)",
    table="CPU run current (the table is not named by the quoting source)",
    found="lancaster-university/microbit-dal issue #97 (2016-02-17): 'CPU datasheet specified "
    "4.4mA', next to the author's own 4.9 mA board measurement (screen off, CPU busy), which is "
    "not used; the Product Specification itself is not among the stored copies; the 3.3 V rail "
    "and the 1.8-3.6 V range from the stored tech.microbit.org hardware/powersupply page",
)

# Cortex-M3 (the AN385 FPGA image has no chip): Arm's own efficiency figure for the core in
# silicon. Core-only dynamic power on a 90 nm process, so it says nothing about the FPGA board.
_CORTEX_M3_CORE = CorePowerFigure(
    core="Cortex-M3",
    dmips_per_mw=12.5,
    dmips_per_mhz=1.25,
    process="90 nm G",
    conditions="dynamic power of the processor core alone in silicon, as Arm states it; no "
    "memories, buses, peripherals or leakage, and a different technology from the FPGA image",
    document="Arm, Cortex-M3 processor product page (arm.com/products/processors/cortex-m/"
    "cortex-m3.php, undated) for 12.5 DMIPS/mW based on 90nmG; Arm white paper 'An "
    "Introduction to the ARM Cortex-M3', Shyam Sadasivan, October 2006, for 1.25 DMIPS/MHz",
    table="'Performance and Energy Efficiency' paragraph of the product page; section 1.1 "
    "'Higher performance through better efficiency' of the white paper",
    found="stored copies of the product page (www.arm.com) and of the white paper (docslib.org)",
)


# Cortex-M4 (the AN386 image): no Arm-published power figure for the core was found, so the run
# current of a production Cortex-M4 chip stands in: the netduinoplus2's own STM32F405.
_CORTEX_M4_CHIP = SameCoreChipFigure(**asdict(_STM32F405_RUN), chip="STM32F405", core="Cortex-M4")

# Cortex-M7 (the AN500 image): likewise a production Cortex-M7 chip's datasheet figure, running
# CoreMark from TCM (the closest of its rows to the AN500 image, whose code and data sit in SRAM).
_CORTEX_M7_CHIP = SameCoreChipFigure(
    current_ma=83.0,
    at_hz=300_000_000,
    supply_v=3.3,
    conditions="Active mode, typical, running CoreMark from TCM, single supply VDDIO = VDDIN = "
    "3.3 V, PLLA 300 MHz with MCK 150 MHz (the core clock taken as the PLLA's 300 MHz), no "
    "peripheral modules operating, core cache enabled; 98 mA maximum",
    document="PIC32CZ CA70/MC70 Family Data Sheet, Microchip (online edition, "
    "onlinedocs.microchip.com GUID-D4CAD149-CB72-498B-B8E7-7E8255593463, en-US-5 and en-US-7)",
    table="Table 57-6, MCU Active Current Consumption Electrical Specifications (section 57.4, "
    "-40 to +85 °C), row APWR_3",
    found="stored copies of section 57.4 of both online editions (the same 90 mA from flash and "
    "83 mA from TCM in each); the core clock: the data sheet's contents show the SAM E70's "
    "clock blocks (PMC, EEFC), whose usual set-up is 'Clock Settings (300MHz HCLK, 150MHz MCK)' "
    "in Microchip's system_same70.c (stored docs.ros.org copy), with the processor clock from "
    "PLLA and MCK = HCLK / MDIV in Zephyr's SAM E70 clock options",
    chip="PIC32CZ CA70",
    core="Cortex-M7",
)


def _mps2(
    name: str, cpu: str, fpu: str | None, title: str, power: CorePowerFigure | PowerFigure
) -> Board:
    return Board(
        name=name,
        title=title,
        vendor="Arm",
        cpu=cpu,
        fpu=fpu,
        clock_hz=25_000_000,
        max_clock_hz=25_000_000,
        flash_size=4 * MiB,
        ram_size=4 * MiB,
        regions=(
            MemoryRegion(
                "FLASH", 0x0000_0000, 4 * MiB, "flash", note="SSRAM1, used as code memory"
            ),
            MemoryRegion("RAM", 0x2000_0000, 4 * MiB, "ram", note="SSRAM2/3"),
        ),
        stack_size=16 * KiB,
        console="CMSDK UART0 @0x40004000, 115200 8N1",
        runs_on="qemu",
        qemu_machine=name,
        qemu_systick_hz=25_000_000,
        upload_protocols=("qemu",),
        notes=("FPGA prototyping board; tinypipe runs it under QEMU.",),
        power=power,
    )


BOARDS: dict[str, Board] = {
    b.name: b
    for b in (
        Board(
            name="host",
            title="Host computer (native build with the system cc)",
            vendor="-",
            cpu="native",
            fpu="native",
            clock_hz=0,
            max_clock_hz=0,
            flash_size=0,
            ram_size=0,
            regions=(),
            stack_size=0,
            console="stdin/stdout",
            runs_on="native",
            upload_protocols=("native",),
            notes=("Counts are wall-clock nanoseconds, not instructions.",),
            power_missing="the host computer: counts are wall-clock time, not cycles",
        ),
        _mps2("mps2-an385", "cortex-m3", None, "Arm MPS2+ AN385 (Cortex-M3)", _CORTEX_M3_CORE),
        _mps2(
            "mps2-an386",
            "cortex-m4",
            "fpv4-sp-d16",
            "Arm MPS2+ AN386 (Cortex-M4F)",
            _CORTEX_M4_CHIP,
        ),
        _mps2(
            "mps2-an500", "cortex-m7", "fpv5-d16", "Arm MPS2+ AN500 (Cortex-M7)", _CORTEX_M7_CHIP
        ),
        Board(
            name="netduinoplus2",
            title="Netduino Plus 2 (STM32F405RG, Cortex-M4F)",
            vendor="Wilderness Labs / ST",
            cpu="cortex-m4",
            fpu="fpv4-sp-d16",
            clock_hz=16_000_000,
            max_clock_hz=168_000_000,
            flash_size=1 * MiB,
            ram_size=192 * KiB,
            regions=(
                MemoryRegion("FLASH", 0x0800_0000, 1 * MiB, "flash"),
                MemoryRegion("RAM", 0x2000_0000, 128 * KiB, "ram", note="SRAM1+SRAM2"),
                MemoryRegion(
                    "CCM",
                    0x1000_0000,
                    64 * KiB,
                    "ram",
                    used=False,
                    note="core-coupled RAM; not modelled by QEMU 7.2, so left unused",
                ),
            ),
            stack_size=8 * KiB,
            console="USART1 (TX PA9, RX PA10), 115200 8N1",
            runs_on="qemu",
            qemu_machine="netduinoplus2",
            qemu_systick_hz=168_000_000,
            upload_protocols=("qemu", "stlink", "openocd", "dfu"),
            hardware_protocol="stlink",
            notes=(
                "Firmware runs from the 16 MHz HSI oscillator (no PLL set-up), so it works on "
                "any STM32F405 board whatever its crystal; counts on hardware are core cycles.",
                "QEMU clocks the core at 168 MHz: one SysTick tick is ~5.95 instructions.",
                "Energy is estimated at the datasheet's 168 MHz operating point: no run current "
                "at the firmware's 16 MHz HSI clock was found.",
            ),
            power=_STM32F405_RUN,
        ),
        Board(
            name="mps3-an547",
            title="Arm MPS3 AN547 (Cortex-M55 with Helium)",
            vendor="Arm",
            cpu="cortex-m55",
            fpu="fpv5-d16",  # plus MVE (Helium), implied by -mcpu=cortex-m55
            clock_hz=32_000_000,
            max_clock_hz=32_000_000,
            flash_size=512 * KiB,
            ram_size=512 * KiB,
            regions=(
                MemoryRegion(
                    "FLASH", 0x0000_0000, 512 * KiB, "flash", note="ITCM, used as code memory"
                ),
                MemoryRegion("RAM", 0x2000_0000, 512 * KiB, "ram", note="DTCM"),
            ),
            stack_size=16 * KiB,
            console="CMSDK UART0 @0x49303000, 115200 8N1",
            runs_on="qemu",
            qemu_machine="mps3-an547",
            qemu_systick_hz=32_000_000,
            upload_protocols=("qemu",),
            notes=(
                "FPGA prototyping image of the Corstone-300 subsystem; tinypipe runs it under QEMU.",
                "Code runs from the 512 KB ITCM and data from the 512 KB DTCM (the image's larger "
                "SRAM and DDR are left alone).",
            ),
            power_missing=_fpga_power_missing(
                _core_name("cortex-m55"), "Alif Ensemble, Infineon PSOC Edge E84, ST STM32N6"
            ),
        ),
        Board(
            name="microbit",
            title="BBC micro:bit v1 (nRF51822, Cortex-M0)",
            vendor="BBC / Nordic",
            cpu="cortex-m0",
            fpu=None,
            clock_hz=16_000_000,
            max_clock_hz=16_000_000,
            flash_size=256 * KiB,
            ram_size=16 * KiB,
            regions=(
                MemoryRegion("FLASH", 0x0000_0000, 256 * KiB, "flash"),
                MemoryRegion("RAM", 0x2000_0000, 16 * KiB, "ram"),
            ),
            stack_size=2 * KiB,
            console="UART0 (TX P0.24, RX P0.25 via the USB interface chip), 115200 8N1",
            runs_on="qemu",
            qemu_machine="microbit",
            qemu_systick_hz=16_000_000,
            upload_protocols=("qemu",),
            notes=(
                "The nRF51's Cortex-M0 has no SysTick in silicon; QEMU models one, so counts "
                "are only meaningful under QEMU.",
            ),
            power=_NRF51822_RUN,
        ),
    )
}


def board_names() -> list[str]:
    return list(BOARDS)


def get_board(name: str) -> Board:
    """Return the board called `name`, or raise a TinypipeError listing the known ones."""
    try:
        return BOARDS[name]
    except KeyError:
        raise TinypipeError(
            f"Unknown board '{name}'.",
            f"Known boards: {', '.join(BOARDS)} (see `tinypipe boards`).",
        ) from None


def _size(n: int) -> str:
    if n == 0:
        return "-"
    if n % MiB == 0:
        return f"{n // MiB} MB"
    if n % KiB == 0:
        return f"{n // KiB} KB"
    return f"{n} B"


def _clock(b: Board) -> str:
    if not b.clock_hz:
        return "-"
    mhz = f"{b.clock_hz / 1e6:g} MHz"
    if b.max_clock_hz != b.clock_hz:
        mhz += f" (max {b.max_clock_hz / 1e6:g})"
    return mhz


def format_boards(boards: list[Board] | None = None) -> str:
    """A table of the boards for `tinypipe boards`, then where each power figure comes from."""
    boards = list(BOARDS.values()) if boards is None else boards
    rows = [("BOARD", "CPU", "FPU", "FLASH", "RAM", "CLOCK", "RUN POWER", "RUNS", "FLASHES WITH")]
    for b in boards:
        ram = _size(b.ram_size)
        usable = b.ram_region
        if usable is not None and usable.size != b.ram_size:
            ram += f" ({_size(usable.size)} used)"
        runs = "host process" if b.is_host else f"qemu -M {b.qemu_machine}"
        rows.append(
            (
                b.name,
                b.cpu,
                b.fpu or "-",
                _size(b.flash_size),
                ram,
                _clock(b),
                b.power.summary()
                if b.power
                else ("n/a (wall-clock)" if b.is_host else "unavailable"),
                runs,
                ", ".join(b.upload_protocols),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines += [
        "",
        "Energy figures (a chip's datasheet run current at a clock and supply voltage; for an FPGA "
        "image the core's dynamic power per MHz in silicon, or a same-core chip's run current):",
    ]
    for b in boards:
        if b.power:
            lines.append(f"  {b.name}: {b.power.citation()}.")
        else:
            lines.append(f"  {b.name}: energy unavailable: {b.power_missing}.")
    return "\n".join(lines)
