"""The device link end to end: firmware built by PlatformIO, run on the host, under QEMU, and
through a real serial port (QEMU's pty, opened by pyserial), checked against the TFLM oracle."""

from __future__ import annotations

import socket
import subprocess
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from test_firmware import fc_tflite

from tinypipe.check.reference import run_tflm
from tinypipe.device.boards import get_board
from tinypipe.device.firmware import build, create_project
from tinypipe.device.runners import (
    LinkError,
    LinkInfo,
    ProcessTransport,
    QemuPty,
    frame,
    infer_many,
    open_runner,
    qemu_binary,
    qemu_command,
    unframe,
)
from tinypipe.errors import TinypipeError

BOARDS = ["host", "mps2-an386", "netduinoplus2", "microbit"]


@pytest.fixture(scope="module")
def fw(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("link")
    model = fc_tflite(root / "fc.tflite", d_in=64, d_out=10, seed=3)
    project = root / "fw"
    create_project(model, BOARDS, project, name="fc")
    build(project)
    x = np.random.default_rng(5).integers(-128, 128, (12, 1, 64)).astype(np.int8)
    return {"project": project, "x": x, "ref": run_tflm(model.read_bytes(), x)}


def test_framing_matches_zlib_crc32() -> None:
    line = frame("I 7 00ff")
    assert line == f"I 7 00ff*{zlib.crc32(b'I 7 00ff'):08x}\n".encode()
    assert unframe(line) == "I 7 00ff"
    assert unframe(line.replace(b"00ff", b"00fe")) is None
    assert unframe(b"garbage") is None and unframe(b"x*zzzzzzzz") is None
    info = LinkInfo.parse(
        "H tinypipe-link v=1 model=m board=b in=4 out=2 it=i8 ot=f32 arena=9 counter=ns hz=1"
    )
    assert (info.in_bytes, info.out_dtype, info.counter) == (4, np.dtype(np.float32), "ns")
    with pytest.raises(LinkError):
        LinkInfo.parse("H something else")


@pytest.mark.parametrize("board", BOARDS)
def test_round_trip_is_bit_exact_with_tflm(fw: dict, board: str) -> None:
    """host and every emulated board: same bytes as the TFLM interpreter."""
    with open_runner(fw["project"], board) as r:
        assert (r.info.model, r.info.board) == ("fc", board)
        assert (r.info.in_bytes, r.info.out_bytes) == (64, 10)
        outs, counts = infer_many(r, fw["x"])
    np.testing.assert_array_equal(outs.reshape(fw["ref"].shape), fw["ref"])
    assert len(counts) == len(fw["x"]) and all(c > 0 for c in counts)
    if board == "host":
        assert r.count_unit == "ns"
        assert r.info.counter == "ns"
    else:
        assert r.count_unit == "instructions" and r.info.counter == "systick"
        # A 64x10 FULLY_CONNECTED is a few thousand instructions, whatever the core.
        assert all(1000 < c < 50000 for c in counts), counts


def test_instruction_counts_are_exact_ticks_and_deterministic(fw: dict) -> None:
    """mps2 at 25 MHz under -icount shift=0: one SysTick tick is 40 instructions, and a fresh
    QEMU run gives the same counts for the same inputs."""
    runs = []
    for _ in range(2):
        with open_runner(fw["project"], "mps2-an386") as r:
            _, counts = infer_many(r, fw["x"][:4])
            runs.append(counts)
            assert r.last_ticks * 40 == counts[-1]
    assert runs[0] == runs[1]
    assert all(c % 40 == 0 for c in runs[0])


@pytest.mark.parametrize("board", ["mps2-an386", "netduinoplus2"])
def test_serial_port_round_trip_through_qemu_pty(fw: dict, board: str) -> None:
    """The serial path for real: QEMU puts the board's UART on a pseudo-terminal, pyserial opens
    it like a USB-serial adapter; a second connection to the same running firmware works too."""
    elf = fw["project"] / ".pio/build" / board / "firmware.elf"
    with QemuPty(get_board(board), elf) as q:
        assert q.port.startswith("/dev/")
        for _ in range(2):
            with open_runner(None, board, port=q.port, emulated=True) as r:
                assert r.info.board == board
                outs, counts = infer_many(r, fw["x"][:6])
            np.testing.assert_array_equal(outs.reshape(fw["ref"][:6].shape), fw["ref"][:6])
            assert r.count_unit == "instructions" and all(c > 0 for c in counts)


def test_serial_url_round_trip_through_qemu_socket(fw: dict) -> None:
    """pyserial's socket:// URL against a QEMU tcp chardev (a networked serial console)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    elf = fw["project"] / ".pio/build/microbit/firmware.elf"
    cmd = qemu_command(
        get_board("microbit"), elf, serial=f"tcp:127.0.0.1:{port},server=on,wait=off"
    )
    cmd[0] = qemu_binary()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:  # wait until QEMU listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        with open_runner(None, "microbit", port=f"socket://127.0.0.1:{port}") as r:
            outs, counts = infer_many(r, fw["x"][:3])
            assert r.count_unit == "cycles"  # not told it is emulated: raw core-clock ticks
        np.testing.assert_array_equal(outs.reshape(fw["ref"][:3].shape), fw["ref"][:3])
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def _raw_exchange(program: Path, lines: list[bytes]) -> list[str]:
    t = ProcessTransport([str(program)])
    try:
        assert unframe(t.readline(5)).startswith("H tinypipe-link")
        answers = []
        for line in lines:
            t.write(line)
            answers.append(unframe(t.readline(5)))
        return answers
    finally:
        t.close()


def test_device_rejects_bad_lines(fw: dict) -> None:
    """The device checks every request: CRC, hex digits, length, syntax; and keeps serving."""
    program = fw["project"] / ".pio/build/host/program"
    good = frame("I 42 " + bytes(64).hex())
    bad_crc = good.replace(b"I 42 00", b"I 42 01")
    answers = _raw_exchange(
        program,
        [
            bad_crc,
            frame("I 1 " + "zz" * 64),
            frame("I 1 " + bytes(63).hex()),
            frame("I 1 0"),
            b"hello\n",
            frame("I " + bytes(64).hex()),  # no sequence number
            b"?\n",
            good,
        ],
    )
    assert answers[0].startswith("E crc ")
    assert answers[1] == "E hex 0 0"
    assert answers[2] == "E len 63 64"
    assert answers[3] == "E hex 0 0"
    assert answers[4] == "E syntax 0 0"
    assert answers[5] == "E syntax 0 0"
    assert answers[6].startswith("H tinypipe-link v=1 model=fc board=host in=64 out=10")
    assert answers[7].startswith("O 42 ") and len(answers[7].split()[2]) == 20


def test_runner_errors_are_clear(fw: dict, tmp_path: Path) -> None:
    with open_runner(fw["project"], "host") as r:
        with pytest.raises(LinkError, match="takes 64"):
            r.infer(bytes(3))
    with pytest.raises(TinypipeError, match="Build it first"):
        fresh = tmp_path / "fresh"
        create_project(fw["project"] / "lib/model", ["microbit"], fresh, name="fc")
        open_runner(fresh, "microbit")
    with pytest.raises(LinkError, match="Cannot open serial port"):
        open_runner(None, "netduinoplus2", port="/dev/does-not-exist")


def test_device_refuses_sequence_numbers_beyond_32_bits(fw: dict) -> None:
    """The documented range is seq < 2^32: 4294967296 must not wrap to 0 on the device."""
    program = fw["project"] / ".pio/build/host/program"
    x = bytes(64).hex()
    answers = _raw_exchange(
        program,
        [frame(f"I 4294967296 {x}"), frame(f"I 99999999999 {x}"), frame(f"I 4294967295 {x}")],
    )
    assert answers[:2] == ["E syntax 0 0", "E syntax 0 0"]
    assert answers[2].startswith("O 4294967295 ")
