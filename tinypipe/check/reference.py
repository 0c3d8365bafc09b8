"""Python references: the TFLM host interpreter (the bit-exact oracle) and LiteRT.

TFLM (`tflite-micro` on PyPI) runs TFLM's reference kernels, which is what tinypipe's
compiled C must match byte for byte. LiteRT is only used for float models.
"""

from __future__ import annotations

import numpy as np

from tinypipe.errors import TinypipeError

from .isolate import in_child, quiet_stderr  # noqa: F401  (in_child: also the TFLM export's)

ARENA_ALIGN = 16


class OracleError(TinypipeError, RuntimeError):
    """The TFLM interpreter refused or crashed on the model (a RuntimeError for older callers)."""


def oracle(fn, *args):
    """`fn(*args)` through `in_child`; a refusal or a crash of TFLM becomes an OracleError."""
    answer = in_child(fn, *args)
    if answer[0] == "ok":
        return answer[1]
    if answer[0] == "signal":
        raise OracleError(
            f"The TFLM interpreter crashed ({answer[1]}) on this model.",
            "The model is malformed in a way TFLM does not check; re-export it with the TFLite "
            "converter, and run `tinypipe inspect` to see which op TFLM cannot take.",
        )
    raise OracleError(
        f"The TFLM interpreter refused the model: {answer[2] or answer[1]}.",
        "Run `tinypipe inspect MODEL` to see which op TFLM cannot take.",
    )


def _runtime():
    from tflite_micro.python.tflite_micro import runtime

    return runtime


def tflm_interpreter(model: bytes, arena_size: int | None = None, preserve_all: bool = False):
    """Create a TFLM interpreter; raises RuntimeError/ValueError when the arena is too small."""
    rt = _runtime()
    cfg = (
        rt.InterpreterConfig.kPreserveAllTensors
        if preserve_all
        else rt.InterpreterConfig.kAllocationRecording
    )
    if arena_size is None:
        arena_size = max(len(model) * 10, 64 * 1024)
    return rt.Interpreter.from_bytes(bytes(model), arena_size=arena_size, intrepreter_config=cfg)


def _as_input(x: np.ndarray, details: dict) -> np.ndarray:
    shape = tuple(int(d) for d in details["shape"])
    return np.asarray(x).astype(details["dtype"], copy=False).reshape(shape)


def run_tflm(
    model: bytes, inputs: np.ndarray, arena_size: int | None = None, stream: bool = False
) -> np.ndarray:
    """Run every sample of `inputs` (first axis = samples, already in the model's input dtype)
    through the TFLM interpreter; return outputs stacked on a new first axis (batch dim kept).
    For a model with one input and one output; `run_tflm_all` takes any number (and says what
    `stream` does)."""
    return run_tflm_all(model, [inputs], arena_size, stream)[0]


def run_tflm_all(
    model: bytes, inputs: list[np.ndarray], arena_size: int | None = None, stream: bool = False
) -> list[np.ndarray]:
    """`inputs[k]` holds the samples of model input k (first axis = samples); returns, per model
    output, the outputs stacked on a new first axis. The interpreter runs in a child process;
    its refusals and crashes raise OracleError.

    A model with state (variable tensors, e.g. an LSTM's) starts every sample from its initial
    state, as tinypipe's runners do; `stream=True` lets each sample continue the previous one's."""
    args = (bytes(model), [np.asarray(x) for x in inputs], arena_size, stream)
    return oracle(_run_tflm_all, *args)


def _run_tflm_all(
    model: bytes, inputs: list[np.ndarray], arena_size: int | None, stream: bool = False
) -> list[np.ndarray]:
    from tinypipe.compiler.graph import read_tflite

    stateful = any(t.is_variable for t in read_tflite(model).tensors)
    interp = tflm_interpreter(model, arena_size)
    details = [interp.get_input_details(k) for k in range(len(inputs))]
    n = len(inputs[0]) if inputs else 0
    n_out = _num_outputs(model)
    outs: list[list[np.ndarray]] = [[] for _ in range(n_out)]
    for i in range(n):
        for k, (x, d) in enumerate(zip(inputs, details)):
            interp.set_input(_as_input(x[i], d), k)
        if stateful and not stream:
            interp.reset()  # the variable tensors back to their initial values
        interp.invoke()
        for j in range(n_out):
            outs[j].append(np.array(interp.get_output(j), copy=True))
    return [np.stack(o) if o else np.zeros((0,), dtype=np.int8) for o in outs]


def _num_outputs(model: bytes) -> int:
    from tinypipe.compiler.graph import read_tflite

    return len(read_tflite(model).outputs)


def run_tflm_tensors(
    model: bytes, x: np.ndarray | list[np.ndarray], tensor_indices: list[int]
) -> dict[int, np.ndarray]:
    """Run one sample (one array per model input, or one array for a single-input model) with
    all tensors preserved and return the requested intermediate tensors (in a child process,
    like run_tflm)."""
    return oracle(_run_tflm_tensors, bytes(model), x, list(tensor_indices))


def _run_tflm_tensors(
    model: bytes, x: np.ndarray | list[np.ndarray], tensor_indices: list[int]
) -> dict[int, np.ndarray]:
    interp = tflm_interpreter(model, preserve_all=True)
    for k, xk in enumerate(x if isinstance(x, list) else [x]):
        interp.set_input(_as_input(xk, interp.get_input_details(k)), k)
    interp.invoke()
    out = {}
    for i in tensor_indices:
        t = interp.GetTensor(i, 0)  # {'dtype', 'shape', 'tensor_data'}
        data = t["tensor_data"] if isinstance(t, dict) else t
        out[i] = np.array(data, copy=True)
    return out


def _arena_works(model: bytes, size: int, sample: np.ndarray | None) -> bool:
    """Try one arena size in a child process: TFLM can crash, not just fail, on a too-small
    arena; a crash answers "too small"."""
    return in_child(_try_arena, model, size, sample) == ("ok", True)


def _try_arena(model: bytes, size: int, sample: np.ndarray | None) -> bool:
    try:
        interp = tflm_interpreter(model, size)
        details = interp.get_input_details(0)
        x = sample if sample is not None else np.zeros(details["shape"], dtype=details["dtype"])
        interp.set_input(_as_input(x, details), 0)
        interp.invoke()
        return True
    except (RuntimeError, ValueError):
        return False


def smallest_tflm_arena(model: bytes, sample: np.ndarray | None = None) -> int:
    """The smallest arena (a multiple of 16 bytes) with which TFLM allocates *and* invokes the model.

    Found by binary search over real allocations: TFLM's own recorded usage under-reports.
    """
    lo, hi = 0, ARENA_ALIGN * 64
    while not _arena_works(model, hi, sample):
        lo, hi = hi, hi * 2
        if hi > 1 << 30:
            raise TinypipeError(
                "The TFLM interpreter could not run this model with any arena up to 1 GiB.",
                "Check that every op is supported by TFLM (`tinypipe inspect`).",
            )
    # invariant: lo fails (or is 0), hi works; both multiples of 16
    while hi - lo > ARENA_ALIGN:
        mid = (lo + hi) // 2 // ARENA_ALIGN * ARENA_ALIGN
        if _arena_works(model, mid, sample):
            hi = mid
        else:
            lo = mid
    # Allocation is monotonic in practice; walk down in case a smaller size also works.
    while hi > ARENA_ALIGN and _arena_works(model, hi - ARENA_ALIGN, sample):
        hi -= ARENA_ALIGN
    return hi


def quantize_input(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    """Quantize float data the way the TFLite converter's input quantization does: round half away
    from zero, add the zero point, saturate."""
    info = np.iinfo(dtype)
    v = np.asarray(x, dtype=np.float64) / scale  # np.round would round half to even
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def run_litert(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """Run float (or quantized) `inputs` through LiteRT without delegates (never XNNPACK)."""
    from ai_edge_litert import interpreter as litert

    interp = litert.Interpreter(
        model_content=bytes(model),
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    res = []
    for x in inputs:
        interp.set_tensor(inp["index"], np.asarray(x).astype(inp["dtype"]).reshape(inp["shape"]))
        interp.invoke()
        res.append(interp.get_tensor(out["index"]).copy())
    return np.stack(res)
