"""Ethos-U NPU estimates: what Arm's Vela compiler says a model costs on an Ethos-U55/U65/U85.

Vela (`ethos-u-vela`, the `[npu]` extra) compiles the int8 `.tflite` for the NPU and estimates
cycles, memory traffic and SRAM/flash use from its own performance model; it does not run the
model. tinypipe runs it in a child process in a scratch folder, reads its summary CSV and its
list of operators left on the CPU, and reports them next to tinypipe's Cortex-M figures. The
numbers are Vela's estimates, labelled as such wherever they appear.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tinypipe.errors import TinypipeError

# Vela's accelerator configurations, with the system config and memory mode from Vela's own
# Arm/vela.ini that match each family's typical SoC (Vela warns and guesses without them).
ACCELERATORS: dict[str, tuple[str, str]] = {
    "ethos-u55-32": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u55-64": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u55-128": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u55-256": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u65-256": ("Ethos_U65_High_End", "Dedicated_Sram"),
    "ethos-u65-512": ("Ethos_U65_High_End", "Dedicated_Sram"),
}

VELA_TIMEOUT_S = 600

_CPU_OP = re.compile(r"^Warning \(supported operators\) operator: (\w+), ofm: '(.*)'$")
_CPU_COUNT = re.compile(r"^CPU operators = (\d+)")
_NPU_COUNT = re.compile(r"^NPU operators = (\d+)")


@dataclass
class CpuFallback:
    """An operator Vela leaves to the CPU, and Vela's reason."""

    op: str
    output: str
    reason: str


@dataclass
class NpuEstimate:
    """Vela's figures for one model on one accelerator configuration (estimates)."""

    accelerator: str
    system_config: str
    memory_mode: str
    vela_version: str
    clock_hz: float
    cycles_npu: int  # cycles the NPU computes
    cycles_total: int  # including memory-access cycles the NPU waits for
    time_ms: float  # cycles_total at the NPU clock
    macs: int
    sram_bytes: int
    flash_bytes: int  # off-chip + on-chip flash Vela places weights in
    dram_bytes: int  # DRAM (the U65's usual home for weights)
    npu_ops: int
    cpu_ops: int
    cpu_fallback: list[CpuFallback] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        lines = [
            f"Ethos-U estimate ({self.accelerator}, {self.system_config}, {self.memory_mode}; "
            f"Vela {self.vela_version} performance model, not a measurement):",
            f"  NPU clock       {self.clock_hz / 1e6:g} MHz",
            f"  cycles          {self.cycles_total:,} ({self.cycles_npu:,} compute)",
            f"  time            {self.time_ms:.4f} ms per inference",
            f"  MACs            {self.macs:,}",
            f"  SRAM            {self.sram_bytes:,} B",
            f"  flash           {self.flash_bytes:,} B",
            f"  DRAM            {self.dram_bytes:,} B",
            f"  operators       {self.npu_ops} on the NPU, {self.cpu_ops} on the CPU",
        ]
        for f in self.cpu_fallback:
            lines.append(f"    CPU: {f.op} -> '{f.output}': {f.reason}")
        return "\n".join(lines)


def vela_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("ethos-u-vela")
    except PackageNotFoundError:
        raise TinypipeError(
            "The Ethos-U estimate needs Arm's Vela compiler, which is not installed.",
            'Install it with `pip install "tinypipe[npu]"` (the ethos-u-vela package).',
        ) from None


def _kib(value: str) -> int:
    return int(round(float(value) * 1024))


def parse_summary_csv(path: Path) -> dict[str, str]:
    """Vela's per-network summary CSV: one header row, one data row."""
    rows = list(csv.DictReader(path.open(newline="")))
    if len(rows) != 1:
        raise TinypipeError(f"Vela's summary {path.name} has {len(rows)} rows, expected 1.")
    return rows[0]


def parse_cpu_fallback(stdout: str) -> tuple[list[CpuFallback], int | None, int | None]:
    """The operators Vela leaves on the CPU (with reasons) and its NPU/CPU operator counts."""
    fallback: list[CpuFallback] = []
    cpu = npu = None
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if m := _CPU_OP.match(line):
            reason = ""
            if i + 1 < len(lines) and lines[i + 1].startswith("Reason: "):
                reason = lines[i + 1][len("Reason: ") :].strip()
            fallback.append(CpuFallback(op=m.group(1), output=m.group(2), reason=reason))
        elif m := _CPU_COUNT.match(line):
            cpu = int(m.group(1))
        elif m := _NPU_COUNT.match(line):
            npu = int(m.group(1))
    return fallback, cpu, npu


def run_vela(
    model: Path, accelerator: str, outdir: Path, system_config: str, memory_mode: str
) -> subprocess.CompletedProcess:
    """Run Vela on `model` into `outdir` in a child process (its own interpreter state)."""
    cmd = [
        sys.executable,
        "-c",
        "import sys; from ethosu.vela.vela import main; sys.exit(main())",
        str(model),
        "--accelerator-config",
        accelerator,
        "--config",
        "Arm/vela.ini",
        "--system-config",
        system_config,
        "--memory-mode",
        memory_mode,
        "--output-dir",
        str(outdir),
        "--show-cpu-operations",
    ]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=VELA_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise TinypipeError(
            f"Vela did not finish compiling {model.name} within {VELA_TIMEOUT_S} s."
        ) from None


def estimate_npu(
    model: str | Path,
    accelerator: str = "ethos-u55-128",
    system_config: str | None = None,
    memory_mode: str | None = None,
) -> NpuEstimate:
    """Compile `model` with Vela for `accelerator` and return its estimates."""
    model = Path(model)
    if accelerator not in ACCELERATORS:
        raise TinypipeError(
            f"Unknown Ethos-U configuration '{accelerator}'.",
            f"Use one of: {', '.join(ACCELERATORS)}.",
        )
    if not model.is_file():
        raise TinypipeError(f"Model file {model} does not exist.")
    version = vela_version()
    default_sys, default_mem = ACCELERATORS[accelerator]
    system_config = system_config or default_sys
    memory_mode = memory_mode or default_mem
    with tempfile.TemporaryDirectory(prefix="tinypipe-vela-") as tmp:
        res = run_vela(model, accelerator, Path(tmp), system_config, memory_mode)
        summaries = sorted(Path(tmp).glob("*_summary_*.csv"))
        if res.returncode != 0 or not summaries:
            tail = "\n".join((res.stderr or res.stdout).strip().splitlines()[-6:])
            raise TinypipeError(
                f"Vela could not compile {model.name} for {accelerator}:\n{tail}",
                "Vela takes full-int8 (or 16x8) models; give it the model tinypipe quantized.",
            )
        row = parse_summary_csv(summaries[0])
    fallback, cpu_ops, npu_ops = parse_cpu_fallback(res.stdout)
    clock = float(row["core_clock"])
    cycles_total = int(float(row["cycles_total"]))
    return NpuEstimate(
        accelerator=accelerator,
        system_config=system_config,
        memory_mode=memory_mode,
        vela_version=version,
        clock_hz=clock,
        cycles_npu=int(float(row["cycles_npu"])),
        cycles_total=cycles_total,
        time_ms=cycles_total / clock * 1e3,
        macs=int(float(row["nn_macs"])),
        sram_bytes=_kib(row["sram_memory_used"]),
        flash_bytes=_kib(row["off_chip_flash_memory_used"])
        + _kib(row["on_chip_flash_memory_used"]),
        dram_bytes=_kib(row["dram_memory_used"]),
        npu_ops=npu_ops if npu_ops is not None else 0,
        cpu_ops=cpu_ops if cpu_ops is not None else len(fallback),
        cpu_fallback=fallback,
    )
