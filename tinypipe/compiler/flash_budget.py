"""Per-layer weight layouts under a flash budget.

A convolution whose weights are expanded to int16 (tp_conv_w16_s8, tp_depthwise_conv_w16_s8 and
the generated kernels built on them) runs each multiply-accumulate in fewer instructions than on
its int8 weights (tp_conv_s8, tp_depthwise_conv_s8), but stores every weight in two bytes. When
the firmware's estimated flash (weights plus the fit check's code estimate) exceeds the budget,
layers go back to int8 weights, those saving the fewest instructions per extra byte first, until
it fits. Both layouts compute the same integers, so the choice never changes a result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tinypipe.errors import DoesNotFitError, TinypipeError

# The fit check's code estimate (device/firmware.py), measured on tinypipe's own firmware
# (gcc -O2, DSP kernels on the M4): the link, startup, console driver and libgcc's 64-bit
# division take ~3-5 KB of flash; each runtime kernel source and the model's own code (params,
# call sequence) add ~1.5 KB at most. Checked to stay above the real image for the zoo models.
LINK_FLASH_BYTES = 6144
KERNEL_FLASH_BYTES = 1536

# Instructions per MAC of a layer on int8 weights and on int16 weights, per core and kind of
# layer, measured by `python benchmarks/weight_layouts.py --boards
# mps2-an386,mps2-an500,mps2-an385,microbit` (QEMU -icount, the firmware's per-layer counts):
# one-op models (1x1 CONV_2D 64->64 on 8x5, 3x3 CONV_2D 16->32 on 8x8, 3x3 DEPTHWISE_CONV_2D 64
# on 8x5) on the runtime's int8 kernels and on the generated int16 ones, at commit b436386
# (faster kernels since then move them; the ranking needs their ratios, not the last digit).
# Other cores (and firmware for several cores) are ranked by the Cortex-M4's figures.
INSTRUCTIONS_PER_MAC: dict[str, dict[str, tuple[float, float]]] = {
    "cortex-m4": {"pointwise": (2.47, 1.10), "conv": (2.06, 1.07), "depthwise": (7.41, 4.17)},
    "cortex-m7": {"pointwise": (2.47, 1.10), "conv": (2.06, 1.07), "depthwise": (7.24, 4.15)},
    "cortex-m3": {"pointwise": (3.50, 2.00), "conv": (2.99, 1.98), "depthwise": (11.09, 5.87)},
    "cortex-m0": {"pointwise": (5.12, 3.83), "conv": (4.60, 3.92), "depthwise": (17.83, 12.92)},
}
DEFAULT_CPU = "cortex-m4"


def per_mac(cpu: str | None) -> dict[str, tuple[float, float]]:
    """The INSTRUCTIONS_PER_MAC figures `cpu` is ranked by (the Cortex-M4's if not measured)."""
    return INSTRUCTIONS_PER_MAC.get(cpu or DEFAULT_CPU, INSTRUCTIONS_PER_MAC[DEFAULT_CPU])


# Lowerings that run on int16-expanded weights (ops/conv.py, ops/depthwise_conv.py).
INT16_FUNCS = ("tp_conv_w16_s8", "tp_depthwise_conv_w16_s8")


def code_flash_estimate(kernel_sources: int) -> int:
    """The fit check's flash estimate of the code: the link plus the runtime kernel sources and
    the model's own code."""
    return LINK_FLASH_BYTES + KERNEL_FLASH_BYTES * (kernel_sources + 1)


def layer_kind(opcode: str, filter_hw: tuple[int, int]) -> str:
    """The kind of a convolution in INSTRUCTIONS_PER_MAC."""
    if opcode == "DEPTHWISE_CONV_2D":
        return "depthwise"
    return "pointwise" if filter_hw == (1, 1) else "conv"


@dataclass
class LayerLayout:
    """One convolution the int16 layout applies to, and the layout it got."""

    op: int  # the .tflite's operator index
    opcode: str
    kind: str  # a kind of INSTRUCTIONS_PER_MAC: pointwise, conv or depthwise
    macs: int
    extra_bytes: int  # flash of the int16 layout over the int8 one (the arrays as emitted)
    int16: bool = True
    cpu: str | None = None  # the core whose figures estimate the instructions saved

    @property
    def instructions_saved(self) -> int:
        """Instructions one inference saves on int16 weights (estimate: MACs x the per-MAC
        difference of the two paths)."""
        int8, int16 = per_mac(self.cpu)[self.kind]
        return round(self.macs * (int8 - int16))

    @property
    def saved_per_byte(self) -> float:
        return self.instructions_saved / max(self.extra_bytes, 1)

    def to_dict(self) -> dict:
        return {
            "op": self.op,
            "opcode": self.opcode,
            "macs": self.macs,
            "layout": "int16" if self.int16 else "int8",
            "extra_bytes": self.extra_bytes,
            "instructions_saved": self.instructions_saved,
        }


@dataclass
class WeightLayouts:
    """The layout of every layer that could take int16 weights, and the budget it was chosen
    under (None: no budget)."""

    layers: list[LayerLayout] = field(default_factory=list)  # in .tflite order
    budget: int | None = None
    flash_bytes: int = 0  # the chosen model's estimate: weights + code
    cpu: str | None = None  # the target core, if one (the ranking's figures: figures_cpu)

    @property
    def figures_cpu(self) -> str:
        """The core whose INSTRUCTIONS_PER_MAC rank the layers."""
        return self.cpu if self.cpu in INSTRUCTIONS_PER_MAC else DEFAULT_CPU

    @property
    def int16(self) -> list[LayerLayout]:
        return [x for x in self.layers if x.int16]

    @property
    def int8(self) -> list[LayerLayout]:
        return [x for x in self.layers if not x.int16]

    def summary(self) -> str:
        """One line: the layers on each layout, their flash and the instructions they save."""
        if not self.layers:
            return "Weights: int8 (no layer runs on int16-expanded weights)"
        wide, narrow = self.int16, self.int8
        parts = []
        if wide:
            extra = sum(x.extra_bytes for x in wide)
            saved = sum(x.instructions_saved for x in wide)
            parts.append(
                f"{len(wide)} {_layers(len(wide))} int16 (+{extra:,} B flash, "
                f"~{_short(saved)} {_core(self.figures_cpu)} instructions saved)"
            )
        if narrow:
            parts.append(
                f"{len(narrow)} {_layers(len(narrow))} int8 (flash budget {self.budget:,} B)"
            )
        return "Weights: " + ", ".join(parts)

    def table(self) -> str:
        """Per layer: index, op, MACs, the layout chosen, and what int16 weights cost and save
        (the ranking's figures, whichever layout was chosen)."""
        lines = [
            f"{'#':>4} {'op':<18} {'MACs':>11} {'layout':>6} {'int16: +B':>10} {'instr saved':>12}"
        ]
        for x in self.layers:
            lines.append(
                f"{x.op:>4} {x.opcode:<18} {x.macs:>11,} {'int16' if x.int16 else 'int8':>6} "
                f"{x.extra_bytes:>10,} {x.instructions_saved:>12,}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "budget": self.budget,
            "flash_bytes": self.flash_bytes,
            "cpu": self.figures_cpu,
            "layers": [x.to_dict() for x in self.layers],
        }


def _core(cpu: str) -> str:
    return "Cortex-" + cpu.split("-", 1)[1].upper()


def _layers(n: int) -> str:
    return "layer" if n == 1 else "layers"


def _short(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def demotion_order(layers: list[LayerLayout]) -> list[LayerLayout]:
    """The layers in the order they go back to int8 weights: fewest instructions saved per
    extra byte first (the later layer first on ties, so the order is deterministic)."""
    return sorted(layers, key=lambda x: (x.saved_per_byte, -x.op))


def over_budget(name: str, budget: int, weights: int, code: int) -> DoesNotFitError:
    """The error for a model that exceeds `budget` even with every layer on int8 weights."""
    return DoesNotFitError(
        f"Model '{name}' needs {weights + code:,} B of flash (weights {weights:,} + code (est.) "
        f"{code:,}) with every layer on int8 weights: over the flash budget of {budget:,} B "
        "(nothing was written).",
        "Raise --flash-budget (up to the board's flash, see `tinypipe boards`), or shrink the "
        "model: fewer channels or layers, or clustered weights (`tinypipe optimize --cluster 16`).",
    )


_UNITS = {"": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2}


def parse_flash_budget(text: str | int) -> int:
    """Bytes from a flash budget such as 300000, 300K or 1M (K = 1024 bytes, M = 1024 K)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise TinypipeError(
                f"Flash budget '{text}' is not a number of bytes.",
                "Give bytes, optionally with K or M (1024 and 1024 K): e.g. 300000, 300K, 1M.",
            )
        value = int(float(m.group(1)) * _UNITS[unit])
    if value < 1:
        raise TinypipeError(
            f"Flash budget {text} is not positive.",
            "Give the bytes of flash the firmware may use: e.g. 300000, 300K, 1M.",
        )
    return value
