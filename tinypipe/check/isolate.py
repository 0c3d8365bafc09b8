"""Run a call in a child process, so that a crash inside the TFLM interpreter (SIGSEGV, SIGABRT
on a failed TFLITE_CHECK) cannot take the caller down.

The children are forked from a small server process (started on first use with the same Python,
`python -m tinypipe.check.isolate`), never from the caller: a caller that has run TensorFlow (a
conversion, say) has thread pools whose locks a forked child inherits held, and TFLM then crashes
in the child. The server is single-threaded and imports the interpreter once, so each fork is
cheap. Calls and answers travel pickled, length-prefixed, over the server's stdin and stdout.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import signal
import struct
import subprocess
import sys

_HEADER = struct.Struct("<Q")
_server: subprocess.Popen | None = None


@contextlib.contextmanager
def quiet_stderr():
    """Silence TFLM's C-level allocation messages (written straight to fd 2) while probing."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def in_child(fn, *args):
    """`fn(*args)` (a module-level function, picklable arguments) in a child process.

    Returns ("ok", result), ("error", exception type name, message) or ("signal", name)."""
    if not hasattr(os, "fork"):  # pragma: no cover - Windows runs the oracle in process
        try:
            return ("ok", fn(*args))
        except (RuntimeError, ValueError) as exc:
            return ("error", type(exc).__name__, str(exc))
    request = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
    for attempt in (0, 1):  # a server that died (killed from outside) is restarted once
        server = _running_server()
        try:
            _write(server.stdin, request)
            return pickle.loads(_read(server.stdout))
        except (BrokenPipeError, EOFError):
            _stop_server()
            if attempt:
                raise RuntimeError("the TFLM interpreter's server process stopped") from None
    raise AssertionError("unreachable")


def forked(fn, args):
    """`fn(*args)` in a child forked from this process; the answer as in_child returns it."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the answer goes through the pipe, the exit status only says "done"
        try:
            os.close(rfd)
            import faulthandler

            faulthandler.disable()  # a crash is reported by the parent as one clear error
            try:
                with quiet_stderr():
                    answer = ("ok", fn(*args))
            except Exception as exc:
                answer = ("error", type(exc).__name__, str(exc).strip()[:500])
            with os.fdopen(wfd, "wb") as f:
                f.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
        finally:
            os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return ("signal", signal.Signals(os.WTERMSIG(status)).name)
    if not data:
        return ("error", "RuntimeError", f"the interpreter process ended with status {status}")
    return pickle.loads(data)


def _running_server() -> subprocess.Popen:
    global _server
    if _server is None or _server.poll() is not None:
        _server = subprocess.Popen(
            [sys.executable, "-m", "tinypipe.check.isolate"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        atexit.register(_stop_server)
    return _server


def _stop_server() -> None:
    global _server
    if _server is not None:
        with contextlib.suppress(OSError):
            _server.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            _server.wait(timeout=5)
        if _server.poll() is None:
            _server.kill()
        _server = None


def _write(stream, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream) -> bytes:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    n = _HEADER.unpack(header)[0]
    data = stream.read(n)
    if len(data) < n:
        raise EOFError
    return data


def serve() -> None:
    """The server loop: one forked child per request until stdin closes."""
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not reach the answer stream
    import numpy  # noqa: F401  (loaded once, shared by every child)

    with contextlib.suppress(ImportError):
        from tflite_micro.python.tflite_micro import runtime  # noqa: F401
    while True:
        try:
            fn, args = pickle.loads(_read(requests))
        except EOFError:
            return
        _write(answers, pickle.dumps(forked(fn, args), protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    serve()
