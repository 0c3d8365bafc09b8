"""What a built program occupies: section sizes summed per memory region of the board, and
the model's share of the image (weights, kernels) from the ELF's symbols."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinypipe.errors import TinypipeError

from .boards import Board, MemoryRegion


@dataclass
class SectionUse:
    name: str
    address: int
    size: int


@dataclass
class RegionUse:
    region: MemoryRegion
    used: int
    sections: list[SectionUse]

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.region.size if self.region.size else 0.0


@dataclass
class MemoryUsage:
    """Flash and RAM use of a built program, read from its ELF sections."""

    board: Board
    path: Path
    regions: list[RegionUse]
    text: int = 0  # host programs: code + constants
    data: int = 0
    bss: int = 0

    @property
    def flash_used(self) -> int:
        if not self.regions:
            return self.text + self.data
        return sum(r.used for r in self.regions if r.region.kind == "flash")

    @property
    def ram_used(self) -> int:
        if not self.regions:
            return self.data + self.bss
        return sum(r.used for r in self.regions if r.region.kind == "ram")

    def to_dict(self) -> dict:
        return {
            "board": self.board.name,
            "program": self.path.name,
            "flash_used": self.flash_used,
            "flash_size": self.board.flash_region.size if self.board.flash_region else None,
            "ram_used": self.ram_used,
            "ram_size": self.board.ram_region.size if self.board.ram_region else None,
            "regions": [
                {
                    "name": r.region.name,
                    "origin": r.region.origin,
                    "size": r.region.size,
                    "used": r.used,
                    "sections": {s.name: s.size for s in r.sections},
                }
                for r in self.regions
            ],
            "text": self.text,
            "data": self.data,
            "bss": self.bss,
            "stack": self.stack,
        }

    @property
    def stack(self) -> int:
        """Bytes of the .stack reservation counted in the RAM figures."""
        return sum(s.size for r in self.regions for s in r.sections if s.name == ".stack")

    def describe(self) -> str:
        """One line of use per region, e.g. 'FLASH 16,060 / 4,194,304 B (0.4%), RAM 18,212 /
        4,194,304 B (0.4%; incl. 16,384 B stack)'. The board's name is left to the caller."""
        if not self.regions:
            return (
                f"code+rodata {self.text:,} B, "
                f"data {self.data:,} B, bss {self.bss:,} B (no budget: runs on this machine)"
            )
        parts = []
        for r in self.regions:
            if not r.region.used and not r.used:
                continue
            stack = sum(s.size for s in r.sections if s.name == ".stack")
            note = f"; incl. {stack:,} B stack" if stack else ""
            parts.append(
                f"{r.region.name} {r.used:,} / {r.region.size:,} B ({r.percent:.1f}%{note})"
            )
        return ", ".join(parts)


def elf_usage(path: str | Path, board: Board) -> MemoryUsage:
    """Sum the ELF's allocated sections by memory region of `board` (with pyelftools).

    Flash counts every section stored there, including the load image of .data; RAM counts
    .data, .bss (the arena) and the .stack section."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    path = Path(path)
    with path.open("rb") as fh:
        elf = ELFFile(fh)
        segments = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        sections = [
            s
            for s in elf.iter_sections()
            if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"] > 0
        ]
        if not board.regions:
            use = MemoryUsage(board, path, [])
            for s in sections:
                writable = s["sh_flags"] & SH_FLAGS.SHF_WRITE
                if s["sh_type"] == "SHT_NOBITS":
                    use.bss += s["sh_size"]
                elif writable:
                    use.data += s["sh_size"]
                else:
                    use.text += s["sh_size"]
            return use
        regions = {r.name: RegionUse(r, 0, []) for r in board.regions}

        def add(addr: int, size: int, name: str) -> None:
            for ru in regions.values():
                if ru.region.contains(addr):
                    ru.used += size
                    ru.sections.append(SectionUse(name, addr, size))
                    return
            raise TinypipeError(
                f"{path.name}: section {name} at 0x{addr:08x} lies outside {board.name}'s memory."
            )

        for s in sections:
            vma, size = s["sh_addr"], s["sh_size"]
            add(vma, size, s.name)
            if s["sh_type"] != "SHT_NOBITS":
                for seg in segments:
                    off = s["sh_offset"] - seg["p_offset"]
                    if 0 <= off < seg["p_filesz"] and seg["p_paddr"] != seg["p_vaddr"]:
                        add(seg["p_paddr"] + off, size, f"{s.name} (load image)")
                        break
        return MemoryUsage(board, path, list(regions.values()))


def flash_split(program: str | Path, model_name: str) -> dict[str, int]:
    """Bytes of the program's symbols by role: the model's constant data (weights, per-layer
    constants), the int8 kernels (tp_* functions), and the total of both; the caller subtracts
    them from the image size to get the rest (startup, link, libc)."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    weights = kernels = 0
    with open(program, "rb") as f:
        elf = ELFFile(f)
        for sec in elf.iter_sections():
            if not isinstance(sec, SymbolTableSection):
                continue
            for sym in sec.iter_symbols():
                kind, size = sym["st_info"]["type"], int(sym["st_size"])
                if kind == "STT_OBJECT" and sym.name.startswith(
                    (f"{model_name}_w", f"{model_name}_op")
                ):
                    weights += size
                elif kind == "STT_FUNC" and sym.name.startswith("tp_"):
                    kernels += size
    return {"weights": weights, "kernels": kernels}
