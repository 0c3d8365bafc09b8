"""The board registry, its agreement with the PlatformIO board manifests and linker scripts,
and that every piece of board C compiles warning-free (-std=c99 -Wall -Wextra -Werror)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinypipe.cli import main
from tinypipe.device.boards import BOARDS, get_board
from tinypipe.errors import TinypipeError
from tinypipe.resources import firmware_dir

PLATFORM = firmware_dir() / "platforms" / "tinypipe"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]


def manifest(name: str) -> dict:
    return json.loads((PLATFORM / "boards" / f"{name}.json").read_text())


def ld_regions(script: Path) -> dict[str, tuple[int, int]]:
    """MEMORY { NAME (attrs) : ORIGIN = x, LENGTH = nK|nM } -> {NAME: (origin, length)}."""
    units = {"": 1, "K": 1024, "M": 1024 * 1024}
    out = {}
    for m in re.finditer(
        r"(\w+)\s*\([rwx]+\)\s*:\s*ORIGIN\s*=\s*(0x[0-9A-Fa-f]+),\s*LENGTH\s*=\s*(\d+)([KM]?)",
        script.read_text(),
    ):
        out[m.group(1)] = (int(m.group(2), 16), int(m.group(3)) * units[m.group(4)])
    return out


def test_registry_has_the_issue_boards() -> None:
    assert list(BOARDS) == [
        "host",
        "mps2-an385",
        "mps2-an386",
        "mps2-an500",
        "netduinoplus2",
        "mps3-an547",
        "microbit",
    ]
    stm = get_board("netduinoplus2")
    assert (stm.cpu, stm.fpu, stm.flash_size, stm.ram_size) == (
        "cortex-m4",
        "fpv4-sp-d16",
        1024 * 1024,
        192 * 1024,
    )
    assert stm.region("RAM").size + stm.region("CCM").size == stm.ram_size
    assert stm.hardware_protocol == "stlink" and "dfu" in stm.upload_protocols
    mb = get_board("microbit")
    assert (mb.cpu, mb.fpu, mb.flash_size, mb.ram_size) == (
        "cortex-m0",
        None,
        256 * 1024,
        16 * 1024,
    )
    assert get_board("mps2-an385").fpu is None and get_board("mps2-an500").cpu == "cortex-m7"


@pytest.mark.parametrize("name", list(BOARDS))
def test_registry_matches_platformio_manifest_and_linker_script(name: str) -> None:
    b = get_board(name)
    m = manifest(name)
    tp = m["build"]["tinypipe"]
    assert m["upload"]["protocol"] == b.default_protocol
    assert m["upload"]["protocols"] == list(b.upload_protocols)
    assert m["upload"].get("hardware_protocol") == b.hardware_protocol
    assert (PLATFORM / "port" / tp["port"]).is_file()
    if b.is_host:
        assert tp["kind"] == "host"
        return
    assert tp["qemu_machine"] == b.qemu_machine
    assert int(m["build"]["f_cpu"].rstrip("L")) == b.clock_hz
    assert f"-mcpu={b.cpu}" in tp["cpu_flags"]
    fpu_flags = [f for f in tp["cpu_flags"] if f.startswith("-mfpu=")]
    assert fpu_flags == ([f"-mfpu={b.fpu}"] if b.fpu else [])
    assert ("-mfloat-abi=hard" in tp["cpu_flags"]) == bool(b.fpu)
    assert tp["stack_size"] == b.stack_size
    assert m["upload"]["maximum_size"] == b.flash_region.size
    assert m["upload"]["maximum_ram_size"] == b.ram_region.size
    regions = ld_regions(PLATFORM / "ldscripts" / tp["ldscript"])
    assert regions == {r.name: (r.origin, r.size) for r in b.regions}


def test_unknown_board_lists_known_ones() -> None:
    with pytest.raises(TinypipeError) as err:
        get_board("esp32")
    assert "mps2-an386" in str(err.value) and "microbit" in str(err.value)


def test_cli_boards_lists_every_board() -> None:
    res = CliRunner().invoke(main, ["boards"])
    assert res.exit_code == 0
    for b in BOARDS.values():
        assert b.name in res.output and b.cpu in res.output
    assert "stlink" in res.output and "256 KB" in res.output and "16 KB" in res.output
    data = json.loads(CliRunner().invoke(main, ["boards", "--json"]).output)
    assert {d["name"] for d in data} == set(BOARDS)
    assert next(d for d in data if d["name"] == "microbit")["ram_size"] == 16384


def _fake_model(tmp: Path) -> None:
    (tmp / "fake.h").write_text(
        "#include <stdint.h>\n"
        "typedef int8_t TP_MODEL_INPUT_T;\ntypedef int8_t TP_MODEL_OUTPUT_T;\n"
        "#define TP_MODEL_INVOKE fake_invoke\n#define TP_MODEL_INPUT_BYTES 4\n"
        "#define TP_MODEL_OUTPUT_BYTES 4\n#define TP_MODEL_ARENA_BYTES 0\n#define TP_MODEL_NUM_OPS 1\n"
        '#define TP_MODEL_NAME "fake"\n'
        "int fake_invoke(const TP_MODEL_INPUT_T *in, TP_MODEL_OUTPUT_T *out);\n"
    )
    (tmp / "tpl_model.h").write_text('#include "fake.h"\n')


def test_host_c_compiles_strict(tmp_path: Path) -> None:
    _fake_model(tmp_path)
    cc = shutil.which("cc") or "gcc"
    srcs = sorted((firmware_dir() / "link").glob("tpl_*.c")) + [PLATFORM / "port" / "tpl_host.c"]
    for src in srcs:
        cmd = [cc, *STRICT, "-c", f"-I{tmp_path}", f"-I{PLATFORM / 'port'}", str(src)]
        cmd += ["-o", str(tmp_path / (src.stem + ".o"))]
        res = subprocess.run(cmd, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("name", [n for n, b in BOARDS.items() if not b.is_host])
def test_arm_c_compiles_strict(tmp_path: Path, name: str) -> None:
    """Startup, SysTick, the board's console driver, the semihosting fallback and the link."""
    _fake_model(tmp_path)
    tp = manifest(name)["build"]["tinypipe"]
    srcs = [
        PLATFORM / "startup" / "tpl_startup.c",
        PLATFORM / "port" / "tpl_systick.c",
        PLATFORM / "port" / tp["port"],
        PLATFORM / "port" / "tpl_semihosting.c",
        *sorted((firmware_dir() / "link").glob("tpl_*.c")),
    ]
    for src in srcs:
        cmd = ["arm-none-eabi-gcc", *tp["cpu_flags"], *STRICT, "-Os", "-c"]
        cmd += ['-DTPL_BOARD="x"', "-DTPL_CPU_HZ=16000000u", f"-I{tmp_path}"]
        cmd += [f"-I{PLATFORM / 'port'}", str(src), "-o", str(tmp_path / (src.stem + ".o"))]
        res = subprocess.run(cmd, capture_output=True, text=True)
        assert res.returncode == 0, f"{src.name}: {res.stderr}"
