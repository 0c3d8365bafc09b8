"""An emulated board's console in this terminal: what `tinypipe flash` runs for QEMU boards.

QEMU's `-serial stdio` never sees the end of its input, so it would run forever after the user
(or a pipe) closed stdin. Here stdin is forwarded line by line and, once it ends, QEMU is
stopped as soon as the firmware has gone quiet, so `echo ? | tinypipe flash fw -e BOARD` prints
the hello line and returns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import BinaryIO

HINT = (
    "{board} boots in QEMU; its console is this terminal. The firmware prints an 'H ...' hello "
    "line, then answers the tinypipe link protocol: type '?' for the hello again or 'P' for the "
    "per-layer profile of the last inference ('I <seq> <hex>*<crc32>' lines run inferences; "
    "`tinypipe validate` sends those for you). Quit with Ctrl-D (end of input) or Ctrl-C."
)

QUIET_SECONDS = 1.0  # after stdin ends: no output for this long means the firmware answered all


def run_console(
    cmd: list[str],
    cwd: str | os.PathLike,
    env: dict[str, str],
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    boot_timeout: float = 120.0,
) -> int:
    """Run `cmd` (a PlatformIO upload that starts QEMU) with `stdin` forwarded to it and its
    output copied to `stdout`; when `stdin` ends, wait until the firmware has said hello and
    then stayed quiet for QUIET_SECONDS, stop the whole process group and return 0. Returns
    the command's own status if it ends first."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
    )
    state = {"last": time.monotonic(), "hello": False}

    def copy_out() -> None:
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, b""):
            state["last"] = time.monotonic()
            state["hello"] = state["hello"] or line.startswith(b"H ")
            stdout.write(line)
            stdout.flush()

    reader = threading.Thread(target=copy_out, daemon=True)
    reader.start()
    try:
        assert proc.stdin is not None
        for line in iter(stdin.readline, b""):
            if proc.poll() is not None:
                break
            try:
                proc.stdin.write(line)
                proc.stdin.flush()
            except BrokenPipeError:
                break
        # end of input: let the firmware boot and answer what it was sent, then stop it
        deadline = time.monotonic() + boot_timeout
        while proc.poll() is None and time.monotonic() < deadline:
            if state["hello"] and time.monotonic() - state["last"] > QUIET_SECONDS:
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    if proc.poll() is None:
        _stop(proc)
        code = 0
    else:
        code = proc.returncode
    reader.join(timeout=2.0)
    return code


def _stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
