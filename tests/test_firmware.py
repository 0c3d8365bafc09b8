"""PlatformIO projects: layout, determinism, the fit check, offline builds, flash --dry-run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.cli import main
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.device.boards import get_board
from tinypipe.device.elfsize import elf_usage
from tinypipe.device.firmware import (
    build,
    build_project,
    create_project,
    project_manifest,
    project_model,
    upload,
)
from tinypipe.device.runners import qemu_command
from tinypipe.errors import DoesNotFitError, TinypipeError


def fc_tflite(path: Path, d_in: int = 64, d_out: int = 10, seed: int = 0) -> Path:
    """A one-op int8 FULLY_CONNECTED model: [1, d_in] -> [1, d_out]."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.tensor((1, d_in), scale=0.02, zero_point=-3)
    w = b.tensor((d_out, d_in), scale=0.01, data=rng.integers(-127, 128, (d_out, d_in)))
    bias = b.tensor((d_out,), "int32", scale=0.0002, data=rng.integers(-2000, 2000, d_out))
    y = b.tensor((1, d_out), scale=0.05, zero_point=5)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], "FullyConnectedOptions", version=4)
    path.write_bytes(b.build([x], [y]))
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return fc_tflite(tmp_path_factory.mktemp("model") / "fc.tflite")


@pytest.fixture(scope="module")
def project(tmp_path_factory, model) -> Path:
    out = tmp_path_factory.mktemp("fw") / "fw"
    create_project(model, ["host", "mps2-an386", "netduinoplus2"], out, name="fc")
    return out


def test_project_layout(project: Path, model: Path) -> None:
    ini = (project / "platformio.ini").read_text()
    assert "core_dir = .pio-core" in ini and "packages_dir = pio-packages" in ini
    assert "platform = symlink://platforms/tinypipe" in ini
    for env in ("host", "mps2-an386", "netduinoplus2"):
        assert f"[env:{env}]" in ini
    assert (project / "lib/model/fc.h").is_file() and (project / "lib/model/fc.c").is_file()
    assert '#include "fc.h"' in (project / "src/tpl_model.h").read_text()
    for f in ("tpl_main.c", "tpl_link.c", "tpl_link.h"):
        assert (project / "src" / f).is_file()
    plat = project / "platforms/tinypipe"
    assert (plat / "platform.json").is_file() and (plat / "builder/main.py").is_file()
    assert (plat / "boards/netduinoplus2.json").is_file()
    scons = project / "pio-packages/tool-scons"
    meta = json.loads((scons / ".piopm").read_text())
    assert meta["spec"]["owner"] == "platformio" and meta["name"] == "tool-scons"
    version = json.loads((scons / "package.json").read_text())["version"]
    assert version.startswith("4.41101.")  # satisfies PlatformIO's ~4.41101.0
    assert "SCons.Script.Main" in (scons / "scons.py").read_text()
    manifest = project_manifest(project)
    assert manifest["name"] == "fc" and manifest["boards"] == [
        "host",
        "mps2-an386",
        "netduinoplus2",
    ]
    assert (manifest["input_bytes"], manifest["output_bytes"]) == (64, 10)
    assert project_model(project).read_bytes() == model.read_bytes()


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".pio" not in p.relative_to(root).parts[0]
    }


def test_project_is_deterministic_and_has_no_absolute_paths(tmp_path: Path, model: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    create_project(model, ["mps2-an386", "host"], a, name="fc")
    create_project(model, ["mps2-an386", "host"], b, name="fc")
    ta, tb = _tree(a), _tree(b)
    assert ta == tb
    for name, data in ta.items():
        assert str(tmp_path).encode() not in data, name
        assert str(Path.home()).encode() + b"/" not in data, name


def test_existing_folder_needs_force(tmp_path: Path, model: Path) -> None:
    out = tmp_path / "fw"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(TinypipeError, match="not empty"):
        create_project(model, ["host"], out)
    create_project(model, ["host"], out, name="fc", force=True)
    assert (out / "notes.txt").read_text() == "keep me"
    assert (out / "lib/model/fc.h").is_file()
    create_project(model, ["mps2-an385"], out, name="other", force=True)
    assert not (out / "lib/model/fc.h").exists() and (out / "lib/model/other.h").is_file()
    assert "[env:host]" not in (out / "platformio.ini").read_text()


def test_oversized_model_is_refused_with_numbers(tmp_path: Path) -> None:
    """20000-byte input and 320 KB of weights: neither the 16 KB RAM nor the 256 KB flash of
    the micro:bit is enough; nothing is written, and the CLI exits 2 with the numbers."""
    big = fc_tflite(tmp_path / "big.tflite", d_in=20000, d_out=16, seed=1)
    out = tmp_path / "fw"
    with pytest.raises(DoesNotFitError) as err:
        create_project(big, ["mps2-an386", "microbit"], out, name="big")
    msg = str(err.value)
    assert "does not fit microbit (nothing was written)" in msg and "mps2-an386" not in msg
    ram = re.search(r"microbit RAM @0x20000000 needs ([\d,]+) B \(([^)]*)\), has 16,384 B", msg)
    assert ram, msg
    parts = dict((k.strip(), int(v.replace(",", ""))) for k, v in (p.rsplit(" ", 1) for p in ram.group(2).split(" + ")))
    assert int(ram.group(1).replace(",", "")) == sum(parts.values()) > 16_384
    assert parts["input+output"] == 20_000 + 16 and parts["stack"] == get_board("microbit").stack_size
    assert "microbit FLASH @0x00000000 needs" in msg and "has 262,144 B" in msg
    weights = generate_c(read_tflite(big)).weight_bytes  # 320,000 int8 weights plus constants
    assert weights >= 320_000 and f"weights {weights:,}" in msg
    assert not out.exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left

    res = CliRunner().invoke(
        main, ["firmware", str(big), "--board", "microbit", "-o", str(out), "--name", "big"]
    )
    assert res.exit_code == 2
    assert "does not fit microbit" in res.output and "16,384" in res.output
    assert not out.exists()


def test_build_is_offline_and_reports_usage(project: Path) -> None:
    """The whole build with every proxy pointed at a dead port and, where the kernel allows,
    inside a network namespace with no interfaces: it must still succeed, quickly."""
    env = dict(os.environ)
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    env.update(http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", NO_PROXY="")
    cmd = [sys.executable, "-m", "tinypipe.cli", "build", str(project)]
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        cmd = [unshare, "-n", *cmd]
    t0 = time.monotonic()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - t0
    assert res.returncode == 0, res.stdout + res.stderr
    assert took < 60, f"offline build took {took:.0f} s (network retries?)"
    assert "[mps2-an386] built" in res.stdout and "FLASH" in res.stdout
    for word in ("Downloading", "Installing", "HTTPClientError", "Internet"):
        assert word not in res.stdout + res.stderr

    board = get_board("mps2-an386")
    usage = elf_usage(project / ".pio/build/mps2-an386/firmware.elf", board)
    flash, ram = usage.regions
    assert flash.region.name == "FLASH" and 640 + 1000 < flash.used < 16384  # weights + code
    assert ram.region.name == "RAM" and ram.used >= board.stack_size + 74
    assert any(s.name == ".stack" and s.size == board.stack_size for s in ram.sections)
    stm = elf_usage(project / ".pio/build/netduinoplus2/firmware.elf", get_board("netduinoplus2"))
    assert [r.region.name for r in stm.regions if r.used] == ["FLASH", "RAM"]
    assert all(s.address >= 0x0800_0000 for s in stm.regions[0].sections)


def test_build_api_returns_results(project: Path) -> None:
    (res,) = build(project, ["host"])
    assert res.env == "host" and res.program.is_file() and res.seconds > 0
    assert res.usage.text > 0 and res.usage.regions == []
    lines = []
    d = build_project(project, "netduinoplus2", log=lines.append).to_dict()
    assert d["board"] == "netduinoplus2" and d["ram_size"] == 128 * 1024
    assert 0 < d["flash_used"] < d["flash_size"] and d["ram_used"] >= 8192
    assert lines and "netduinoplus2" in lines[0] and "FLASH" in lines[0]
    # one clean line per env, the stack reservation named inside the RAM figure
    assert re.fullmatch(
        r"\[build\] netduinoplus2: built in [\d.]+ s; FLASH [\d,]+ / 1,048,576 B \([\d.]+%\), "
        r"RAM [\d,]+ / 131,072 B \([\d.]+%; incl\. 8,192 B stack\)",
        lines[0],
    ), lines[0]
    assert d["stack"] == get_board("netduinoplus2").stack_size
    build_project(project, "host", log=lines.append)
    assert re.fullmatch(r"\[build\] host: built in [\d.]+ s; code\+rodata [\d,]+ B, .*", lines[1]), lines[1]


def test_flash_dry_run_prints_the_command(project: Path) -> None:
    build(project, ["mps2-an386", "netduinoplus2"])
    res = CliRunner().invoke(
        main, ["flash", str(project), "-e", "netduinoplus2", "--port", "/dev/ttyUSB0", "--dry-run"]
    )
    assert res.exit_code == 0, res.output
    bin_path = (project / ".pio/build/netduinoplus2/firmware.bin").resolve()
    assert res.output.strip() == f"st-flash --reset write {bin_path} 0x08000000"
    cmd = upload(project, "netduinoplus2", protocol="dfu", dry_run=True)
    assert cmd == f"dfu-util -a 0 -s 0x08000000:leave -D {bin_path}"
    cmd = upload(project, "netduinoplus2", protocol="openocd", dry_run=True)
    assert "target/stm32f4x.cfg" in cmd and "verify reset exit" in cmd
    # Emulated boards upload into QEMU, with exactly the command the runners use.
    elf = (project / ".pio/build/mps2-an386/firmware.elf").resolve()
    cmd = upload(project, "mps2-an386", dry_run=True)
    assert cmd == " ".join(qemu_command(get_board("mps2-an386"), elf))
    with pytest.raises(TinypipeError, match="cannot upload with 'stlink'"):
        upload(project, "mps2-an386", protocol="stlink", dry_run=True)


@pytest.mark.qemu
def test_flash_to_qemu_says_what_to_type_and_ends_with_stdin(project: Path) -> None:
    """Without --dry-run an emulated board boots in QEMU attached to this terminal: the command
    says what the console understands and how to quit, answers '?' and returns once stdin ends."""
    build(project, ["mps2-an386"])
    res = subprocess.run(
        [sys.executable, "-m", "tinypipe.cli", "flash", str(project), "-e", "mps2-an386"],
        input="?\n",
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PLATFORMIO_DISABLE_UPGRADE_CHECK": "true"},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Ctrl-D" in res.stderr and "'?'" in res.stderr and "mps2-an386" in res.stderr
    hellos = re.findall(r"^H tinypipe-link v=1 model=fc board=mps2-an386 .*\*[0-9a-f]{8}$", res.stdout, re.M)
    assert len(hellos) == 2, res.stdout  # at boot, and the answer to '?'


def test_build_of_a_missing_folder_says_it_is_missing(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["build", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "does not exist" in res.output and "PlatformIO project" not in res.output


def test_copied_project_builds_with_its_own_platform(tmp_path: Path, model: Path) -> None:
    """PlatformIO remembers the absolute folder of a symlink:// platform in .pio-core; a project
    copied after a build must use its own platforms/tinypipe, not the original's."""
    a, b = tmp_path / "a", tmp_path / "b"
    create_project(model, ["host"], a, name="fc")
    build(a)
    shutil.copytree(a, b)
    (res,) = build(b)
    assert res.program == b / ".pio/build/host/program" and res.program.is_file()
    link = next((b / ".pio-core/platforms").glob("*.pio-link"))
    assert json.loads(link.read_text())["cwd"] == str(b)


def test_compiler_launcher_goes_before_every_c_compile(
    tmp_path: Path, model: Path, monkeypatch
) -> None:
    """TINYPIPE_CC_LAUNCHER (e.g. ccache) runs every C compile of a build, which then makes the
    same firmware as a build without it."""
    plain, launched = tmp_path / "plain", tmp_path / "launched"
    for out in (plain, launched):
        create_project(model, ["mps2-an386"], out, name="fc")
    monkeypatch.delenv("TINYPIPE_CC_LAUNCHER", raising=False)
    build(plain)
    log = tmp_path / "launched.txt"
    launcher = tmp_path / "launcher.sh"
    launcher.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "$@"\n')
    launcher.chmod(0o755)
    monkeypatch.setenv("TINYPIPE_CC_LAUNCHER", str(launcher))
    (res,) = build(launched)
    compiles = [line.split() for line in log.read_text().splitlines() if " -c " in line]
    assert compiles and all(args[0] == "arm-none-eabi-gcc" for args in compiles)
    compiled = {Path(args[-1]).name for args in compiles}
    assert {p.name for p in (launched / "lib/model").glob("*.c")} <= compiled
    assert res.program.read_bytes() == (plain / ".pio/build/mps2-an386/firmware.elf").read_bytes()
