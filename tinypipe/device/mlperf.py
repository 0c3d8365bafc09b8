"""Host side of the MLPerf Tiny / EEMBC device-under-test protocol (performance mode).

Firmware made with `tinypipe firmware --protocol mlperf` answers the benchmark runner's
commands (`name%`, `profile%`, `db load N%`, `db HEX%`, `infer N W%`, `results%`); this
module drives it the same way, over the same transports as the tinypipe link (a host
process, QEMU's UART on stdio, or a serial port), so tests can check the device's results.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinypipe.errors import TinypipeError

from .boards import get_board
from .runners import (
    DEFAULT_BAUDRATE,
    LinkError,
    ProcessTransport,
    SerialTransport,
    _program_for,
    qemu_binary,
    qemu_command,
)

HEX_BYTES_PER_COMMAND = 32  # "db " + 64 hex digits stays under the protocol's 80-character commands
_RESULTS = re.compile(r"^m-results-\[(.*)\]$")


@dataclass
class Answer:
    lines: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [x for x in self.lines if x.startswith("e-")]


class MlperfDut:
    """A device under test: send `%`-terminated commands, read `m-`/`e-` lines until m-ready."""

    def __init__(self, transport, timeout: float = 120.0) -> None:
        self.transport = transport
        self.timeout = timeout
        self.boot = self._until_ready("boot")

    def _until_ready(self, what: str) -> Answer:
        ans = Answer()
        deadline = time.monotonic() + self.timeout
        while True:
            line = self.transport.readline(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise LinkError(
                    f"The device did not answer '{what}' with m-ready in {self.timeout:g} s."
                )
            text = line.decode(errors="replace").strip()
            if text == "m-ready":
                return ans
            if text:
                ans.lines.append(text)

    def command(self, cmd: str) -> Answer:
        self.transport.write(cmd.encode() + b"%")
        return self._until_ready(cmd.split(" ")[0])

    def load(self, data: bytes) -> None:
        ans = self.command(f"db load {len(data)}")
        if ans.errors:
            raise LinkError(f"db load {len(data)}: {ans.errors[0]}")
        for i in range(0, len(data), HEX_BYTES_PER_COMMAND):
            ans = self.command("db " + data[i : i + HEX_BYTES_PER_COMMAND].hex())
            if ans.errors:
                raise LinkError(f"db: {ans.errors[0]}")
        if "m-load-done" not in ans.lines:
            raise LinkError("The device did not confirm the input with m-load-done.")

    def infer(self, runs: int = 1, warmup: int = 0) -> tuple[list[str], int | None]:
        """Run the loaded input; the results as printed, and the microseconds between the
        two timestamps (the device's clock)."""
        ans = self.command(f"infer {runs} {warmup}")
        if ans.errors:
            raise LinkError(f"infer: {ans.errors[0]}")
        laps = [int(x[len("m-lap-us-") :]) for x in ans.lines if x.startswith("m-lap-us-")]
        for line in ans.lines:
            if m := _RESULTS.match(line):
                return m.group(1).split(","), (laps[1] - laps[0] if len(laps) == 2 else None)
        raise LinkError(f"No m-results line in the answer to infer: {ans.lines}")

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> MlperfDut:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_dut(
    project: str | Path, board: str, port: str | None = None, timeout: float = 120.0
) -> MlperfDut:
    """Start (or, with `port`, connect to) MLPerf firmware built for `board` in `project`."""
    b = get_board(board)
    if port is not None:
        return MlperfDut(SerialTransport(port, DEFAULT_BAUDRATE), timeout)
    prog, b = _program_for(project, b)
    if b.is_host:
        return MlperfDut(
            ProcessTransport([str(prog.resolve())], describe=f"host program {prog}"), timeout
        )
    cmd = qemu_command(b, prog.resolve())
    cmd[0] = qemu_binary()
    return MlperfDut(ProcessTransport(cmd, describe=f"QEMU {b.qemu_machine}"), timeout)


def expected_results(q: np.ndarray, scale: float, zero_point: int) -> list[str]:
    """The results line the protocol asks for, from integer outputs: (q - zero point) * scale
    in float32, printed with 3 decimals rounded half up, as the firmware computes it."""
    v = (q.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
    out = []
    for x in v.ravel():
        neg = bool(x < 0)
        milli = int(np.float32(abs(x)) * np.float32(1000.0) + np.float32(0.5))
        out.append(f"{'-' if neg else ''}{milli // 1000}.{milli % 1000:03d}")
    return out


def check_protocol_project(project: str | Path) -> None:
    from .firmware import project_manifest

    if project_manifest(project).get("protocol", "tinypipe") != "mlperf":
        raise TinypipeError(
            f"'{project}' speaks the tinypipe link, not the MLPerf Tiny protocol.",
            "Make one with `tinypipe firmware MODEL --board B --protocol mlperf -o DIR`.",
        )
