"""Talk to running tinypipe firmware: a host process, a QEMU process, or a serial port.

All three speak the same line protocol (firmware/link/tpl_link.h): ASCII lines with a hex
payload and a CRC-32, so a corrupted or half-read line is detected, never misread.

    host -> device   "?"                        device -> host   "H tinypipe-link v=1 model=...*crc"
                     "I <seq> <hex input>*<crc>"                 "O <seq> <hex output> <ticks>*<crc>"
                                                                 "E <code> <a> <b>*<crc>"
                     "P"                                         "P <seq> <n> <tick|-> ...*<crc>"

API:

    with open_runner("fw", "mps2-an386") as r:        # boots .pio/build/mps2-an386/firmware.elf
        out, count = r.infer(input_bytes)             # count in r.count_unit
        layers = r.profile()                          # that inference per layer (None: no call)
    outputs, counts = infer_many(r, inputs)           # inputs: (N, ...) array

`count_unit` is "instructions" under QEMU (SysTick ticks under -icount shift=0, times the
instructions per tick of that machine: 40 on mps2), "cycles" on real hardware (SysTick runs
on the core clock), and "ns" (wall clock) for the host board.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinypipe.errors import TinypipeError

from .boards import Board, get_board

DEFAULT_BAUDRATE = 115200
_HEX = re.compile(r"[0-9a-f]*")
_DTYPES = {"i8": np.int8, "u8": np.uint8, "i16": np.int16, "i32": np.int32, "f32": np.float32}


class LinkError(TinypipeError):
    """The device did not answer, answered garbage, or rejected a request."""


# ----------------------------------------------------------------------------- framing


def frame(body: str) -> bytes:
    """`body` + "*" + CRC-32 of body (8 lower-case hex digits) + newline."""
    return f"{body}*{zlib.crc32(body.encode('ascii')):08x}\n".encode("ascii")


def unframe(line: bytes) -> str | None:
    """The body of a framed line, or None if it is not one or its CRC is wrong."""
    text = line.decode("ascii", errors="replace").strip()
    body, star, crc = text.rpartition("*")
    if not star or len(crc) != 8:
        return None
    try:
        if int(crc, 16) != zlib.crc32(body.encode("ascii", errors="replace")):
            return None
    except ValueError:
        return None
    return body


@dataclass(frozen=True)
class LinkInfo:
    """The device's hello line."""

    model: str
    board: str
    in_bytes: int
    out_bytes: int
    in_dtype: np.dtype
    out_dtype: np.dtype
    arena_bytes: int
    counter: str  # "systick" (core clock ticks) or "ns"
    counter_hz: int
    fields: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, body: str) -> LinkInfo:
        parts = body.split()
        if len(parts) < 2 or parts[0] != "H" or parts[1] != "tinypipe-link":
            raise LinkError(f"Not a tinypipe hello line: {body!r}")
        kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        try:
            info = cls(
                model=kv["model"],
                board=kv["board"],
                in_bytes=int(kv["in"]),
                out_bytes=int(kv["out"]),
                in_dtype=np.dtype(_DTYPES[kv["it"]]),
                out_dtype=np.dtype(_DTYPES[kv["ot"]]),
                arena_bytes=int(kv["arena"]),
                counter=kv["counter"],
                counter_hz=int(kv["hz"]),
                fields=kv,
            )
        except (KeyError, ValueError) as exc:
            raise LinkError(f"Malformed hello line {body!r}: {exc}") from None
        if min(info.in_bytes, info.out_bytes, info.counter_hz) <= 0 or info.arena_bytes < 0:
            raise LinkError(
                f"Malformed hello line {body!r}: sizes and the counter rate must be positive."
            )
        return info


# ----------------------------------------------------------------------------- transports


class ProcessTransport:
    """A child process whose stdin/stdout is the device console (host program or QEMU)."""

    def __init__(self, cmd: list[str], cwd: str | Path | None = None, describe: str = "") -> None:
        self.cmd = cmd
        self.describe = describe or cmd[0]
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,  # Ctrl-C in a terminal does not hit the child first
        )
        self._buf = b""

    def stderr_tail(self, n: int = 2000) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-n:]

    def write(self, data: bytes) -> None:
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise self._died() from None

    def _died(self) -> LinkError:
        rc = self.proc.poll()
        return LinkError(
            f"{self.describe} exited (status {rc}) instead of answering.\n{self.stderr_tail()}"
        )

    def readline(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self._died()
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self._stderr.close()


class SerialTransport:
    """A serial port through pyserial: a real board's UART, a QEMU `-serial pty`, or any
    pyserial URL (e.g. "socket://127.0.0.1:4321" for a QEMU tcp chardev)."""

    def __init__(self, port: str, baudrate: int = DEFAULT_BAUDRATE) -> None:
        import serial

        self.describe = f"serial port {port}"
        try:
            self.ser = serial.serial_for_url(port, baudrate=baudrate, timeout=0.05)
        except (serial.SerialException, ValueError) as exc:
            raise LinkError(
                f"Cannot open serial port {port}: {exc}",
                "Check the port name (e.g. /dev/ttyUSB0, /dev/ttyACM0) and permissions.",
            ) from None
        self._buf = b""

    def write(self, data: bytes) -> None:
        self.ser.write(data)
        self.ser.flush()

    def readline(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.ser.timeout = min(remaining, 0.05)
            chunk = self.ser.read(max(1, self.ser.in_waiting))
            if chunk:
                self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def close(self) -> None:
        self.ser.close()


# ----------------------------------------------------------------------------- runner


class Runner:
    """One device behind a transport. Use `open_runner()` to make one."""

    def __init__(
        self,
        transport,
        board: Board,
        count_unit: str,
        ticks_to_count: float,
        timeout: float = 120.0,
        hello_timeout: float = 10.0,
        owned: list | None = None,
    ) -> None:
        self.transport = transport
        self.board = board
        self.count_unit = count_unit
        self.ticks_to_count = ticks_to_count
        self.timeout = timeout
        self.last_ticks = 0
        self.last_profile_ticks: list[int | None] = []  # raw cumulative ticks of profile()
        self._seq = 0
        self._inferred = False
        self._owned = owned or []
        try:
            self.info = self.hello(hello_timeout)
        except BaseException:
            self.close()
            raise

    def hello(self, timeout: float = 10.0) -> LinkInfo:
        """Ask for the hello line ("?") until it comes: the device may still be booting, may
        have missed bytes sent before its UART was on, or sit mid-line after a host crash."""
        deadline = time.monotonic() + timeout
        wait = 0.2
        while True:
            self.transport.write(b"\n?\n")
            until = min(deadline, time.monotonic() + wait)
            while (left := until - time.monotonic()) > 0:
                line = self.transport.readline(left)
                if line is None:
                    break
                body = unframe(line)
                if body is not None and body.startswith("H "):
                    return LinkInfo.parse(body)
            if time.monotonic() >= deadline:
                raise LinkError(
                    f"No hello line from {self.transport.describe} within {timeout:g} s.",
                    "Is the firmware for this board flashed and the baud rate 115200?",
                )
            wait = min(wait * 2, 2.0)

    def infer(self, data: bytes, retries: int = 2) -> tuple[bytes, int]:
        """Run one inference: `data` is the raw input tensor (info.in_bytes bytes). Returns
        (raw output bytes, count in `count_unit`). A line garbled on the way (bad CRC in either
        direction) is retried; a rejected request raises LinkError."""
        data = bytes(data)
        if len(data) != self.info.in_bytes:
            raise LinkError(
                f"Input has {len(data)} bytes; model '{self.info.model}' takes "
                f"{self.info.in_bytes}."
            )
        self._seq = self._seq % 999_999_999 + 1  # 1..999999999: 0 means "none yet"
        seq = str(self._seq)
        request = frame(f"I {seq} {data.hex()}")
        self._inferred = True
        for attempt in range(retries + 1):
            self.transport.write(request)
            deadline = time.monotonic() + self.timeout
            # None: garbled on the way, so ask again (answers carry the seq)
            while (body := self._next_answer(deadline, "an inference")) is not None:
                parts = body.split() or [""]
                if parts[0] == "O":
                    if len(parts) != 4:
                        raise LinkError(f"Malformed output line {body!r}")
                    if parts[1] != seq:
                        continue  # the answer to an earlier, repeated request
                    out, self.last_ticks = self._parse_output(body, parts)
                    return out, int(round(self.last_ticks * self.ticks_to_count))
                if parts[0] == "E":
                    if parts[1:2] == ["crc"] and attempt < retries:
                        break  # the request was garbled on the way: send it again
                    raise LinkError(f"The device rejected the request: {body}")
                # "H" (a late hello) or anything else: keep reading
        raise LinkError(
            f"No intact answer from {self.transport.describe} after {retries + 1} tries."
        )

    def profile(self, retries: int = 2) -> list[int | None]:
        """The last inference per operator, in `count_unit`: what each operator's kernel took
        (from the end of the previous recorded operator, or the start, to the end of its own),
        None for operators that make no call (shape-only ops such as RESHAPE). The counts add
        up to the whole-inference count, less the few instructions after the last kernel."""
        if not self._inferred:
            raise LinkError("No inference to profile yet: run one with infer() first.")
        for _ in range(retries + 1):
            self.transport.write(b"P\n")
            deadline = time.monotonic() + self.timeout
            # None: garbled on the way, so ask again (the answer does not change)
            while (body := self._next_answer(deadline, "a profile request")) is not None:
                parts = body.split() or [""]
                if parts[0] == "P":
                    return self._parse_profile(body, parts)
                if parts[0] == "E":
                    raise LinkError(
                        f"The device rejected the profile request: {body}",
                        "Firmware made before per-layer profiling: recreate the project with "
                        "`tinypipe firmware` and rebuild it.",
                    )
                # a late "O" or "H": keep reading
        raise LinkError(
            f"No intact profile from {self.transport.describe} after {retries + 1} tries."
        )

    def _next_answer(self, deadline: float, request: str) -> str | None:
        """The body of the next intact line before `deadline`, skipping blank lines; None when a
        garbled line arrives (the request was garbled, or its answer was: send it again).
        Silence until the deadline raises LinkError naming `request`."""
        while True:
            left = deadline - time.monotonic()
            line = self.transport.readline(left) if left > 0 else None
            if line is None:
                raise LinkError(
                    f"{self.transport.describe} did not answer {request} within {self.timeout:g} s."
                )
            body = unframe(line)
            if body is not None:
                return body
            if line.strip():
                return None

    def _parse_output(self, body: str, parts: list[str]) -> tuple[bytes, int]:
        """(output bytes, ticks) of an "O <seq> <hex> <ticks>" line whose CRC was right."""
        hexdata, ticks = parts[2], parts[3]
        if len(hexdata) % 2 or not _HEX.fullmatch(hexdata) or not ticks.isdigit():
            raise LinkError(
                f"Malformed output line {body[:120]!r}: the payload must be whole hex bytes "
                "and the count a non-negative decimal."
            )
        out = bytes.fromhex(hexdata)
        if len(out) != self.info.out_bytes:
            raise LinkError(f"Output has {len(out)} bytes, expected {self.info.out_bytes}.")
        return out, int(ticks)

    def _parse_profile(self, body: str, parts: list[str]) -> list[int | None]:
        try:
            seq, n = int(parts[1]), int(parts[2])
            ticks = [None if t == "-" else int(t) for t in parts[3:]]
            if any(t is not None and t < 0 for t in ticks):
                raise ValueError("negative tick count")
        except (IndexError, ValueError):
            raise LinkError(f"Malformed profile line {body!r}") from None
        if len(ticks) != n:
            raise LinkError(f"Profile line has {len(ticks)} entries, announces {n}: {body!r}")
        if seq != self._seq:
            raise LinkError(
                f"The device profiled inference {seq}, not the last one sent ({self._seq})."
            )
        self.last_profile_ticks = ticks
        counts: list[int | None] = [None] * len(ticks)
        prev = 0  # converted cumulatively, so the counts add up like the ticks do
        # in the order the layers ran (rising ticks), which need not be the operators' order
        for k in sorted((k for k, t in enumerate(ticks) if t is not None), key=lambda k: ticks[k]):
            end = int(round(ticks[k] * self.ticks_to_count))
            counts[k] = end - prev
            prev = end
        return counts

    def close(self) -> None:
        try:
            self.transport.close()
        finally:
            for obj in self._owned:
                obj.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def infer_packed(runner: Runner, blocks: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Run packed input blocks (N, info.in_bytes) of uint8 (`tinypipe.compiler.iolayout`, how
    a model with several inputs travels); return (output blocks (N, info.out_bytes) uint8,
    per-inference counts in `runner.count_unit`)."""
    blocks = np.ascontiguousarray(blocks, dtype=np.uint8)
    outs = np.empty((len(blocks), runner.info.out_bytes), dtype=np.uint8)
    counts = []
    for i, block in enumerate(blocks):
        raw, count = runner.infer(block.tobytes())
        outs[i] = np.frombuffer(raw, dtype=np.uint8)
        counts.append(count)
    return outs, counts


def infer_many(runner: Runner, inputs: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Run every sample of `inputs` (first axis = samples) through `runner`.

    Each sample is cast to the model's input dtype if needed and must hold `info.in_bytes`
    bytes. Returns (outputs with shape (N, output elements) in the model's output dtype,
    per-inference counts in `runner.count_unit`). Reshape the outputs as needed, e.g. to
    the TFLM output shape with `outputs.reshape(tflm_out.shape)`.
    """
    info = runner.info
    arr = np.asarray(inputs)
    if arr.dtype != info.in_dtype:
        arr = arr.astype(info.in_dtype)
    n = arr.shape[0] if arr.ndim else 0
    outs = np.empty((n, info.out_bytes // info.out_dtype.itemsize), dtype=info.out_dtype)
    counts = []
    for i in range(n):
        raw, count = runner.infer(np.ascontiguousarray(arr[i]).tobytes())
        outs[i] = np.frombuffer(raw, dtype=info.out_dtype)
        counts.append(count)
    return outs, counts


# ----------------------------------------------------------------------------- QEMU


def qemu_binary() -> str:
    exe = shutil.which("qemu-system-arm")
    if not exe:
        raise TinypipeError(
            "qemu-system-arm is not installed.",
            "Install it: apt-get install qemu-system-arm (Debian/Ubuntu).",
        )
    return exe


def qemu_command(board: Board, elf: str | Path, serial: str = "stdio") -> list[str]:
    """The QEMU command line that boots `elf` on `board` with the console on `serial`
    (a QEMU chardev: stdio, pty, tcp:HOST:PORT,server=on,wait=off, ...). -icount shift=0
    makes one instruction one nanosecond of virtual time, so SysTick counts instructions."""
    if not board.emulated:
        raise TinypipeError(f"Board {board.name} does not run under QEMU.")
    return [
        "qemu-system-arm",
        "-M",
        board.qemu_machine,
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        serial,
        "-icount",
        "shift=0",
        "-kernel",
        str(elf),
    ]


class QemuPty:
    """QEMU with the board's console on a pseudo-terminal (`-serial pty`): the closest an
    emulator gets to a real board's USB-serial port. `.port` is the /dev/pts path."""

    def __init__(self, board: Board, elf: str | Path, timeout: float = 10.0) -> None:
        cmd = qemu_command(board, elf, serial="pty")
        cmd[0] = qemu_binary()
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        self.port = None
        while time.monotonic() < deadline:
            self._log.seek(0)
            m = re.search(rb"char device redirected to (\S+)", self._log.read())
            if m:
                self.port = m.group(1).decode()
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if self.port is None:
            self.close()
            raise LinkError(f"QEMU did not open a pty for {board.name}.")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> QemuPty:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ----------------------------------------------------------------------------- open_runner


def _program_for(target: str | Path, board: Board | None) -> tuple[Path, Board]:
    """Resolve a project folder (+ env/board) or a program path to (program, board)."""
    path = Path(target)
    if path.is_dir():
        from .firmware import program_path, resolve_env

        env, env_board = resolve_env(path, board.name if board else None)
        prog = program_path(path, env)
        if not prog.is_file():
            raise TinypipeError(
                f"{prog} does not exist.", f"Build it first: tinypipe build {path} -e {env}"
            )
        return prog, env_board
    if board is None:
        raise TinypipeError(f"Which board is {path} built for?", "Pass the board name.")
    if not path.is_file():
        raise TinypipeError(f"Program '{path}' does not exist.")
    return path, board


def open_runner(
    target: str | Path | None,
    board: str | Board | None = None,
    port: str | None = None,
    *,
    baudrate: int = DEFAULT_BAUDRATE,
    emulated: bool | None = None,
    timeout: float = 120.0,
    hello_timeout: float = 10.0,
) -> Runner:
    """Open the device link to firmware built by `tinypipe firmware`/`tinypipe build`.

    - `target`: the project folder (the env is `board`, or its only env), or the program
      itself (host executable or Cortex-M ELF; then `board` is required). May be None with
      a `port`.
    - `board`: board name (or Board).
    - `port`: talk over this serial port (or pyserial URL) to firmware that is already
      running, instead of starting it. Counts are "cycles" unless `emulated=True` (firmware
      under QEMU behind a pty), where they are "instructions".

    Without a port, the host board's program runs as a child process, and an emulated
    board's ELF boots in QEMU (`qemu_command`); closing the runner ends that process.
    """
    b = get_board(board) if isinstance(board, str) else board
    if port is not None:
        if b is None:
            if target is None:
                raise TinypipeError("Which board is on the port?", "Pass the board name.")
            _, b = _program_for(target, None)
        transport = SerialTransport(port, baudrate)
        if b.is_host:
            unit, scale = "ns", 1.0
        elif emulated:
            unit, scale = "instructions", 1e9 / b.qemu_systick_hz
        else:
            unit, scale = "cycles", 1.0
        return Runner(transport, b, unit, scale, timeout, hello_timeout)

    if target is None:
        raise TinypipeError("Nothing to run.", "Pass a project folder, a program, or a port.")
    prog, b = _program_for(target, b)
    if b.is_host:
        transport = ProcessTransport([str(prog.resolve())], describe=f"host program {prog}")
        return Runner(transport, b, "ns", 1.0, timeout, hello_timeout)
    cmd = qemu_command(b, prog.resolve())
    cmd[0] = qemu_binary()
    transport = ProcessTransport(cmd, describe=f"QEMU {b.qemu_machine}")
    return Runner(transport, b, "instructions", 1e9 / b.qemu_systick_hz, timeout, hello_timeout)
