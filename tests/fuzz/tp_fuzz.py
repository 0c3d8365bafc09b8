"""tinypipe's own fuzzer: crafted and mutated .tflite models through the reader and the generator.

Every case is a model made from a small valid one (built with tinypipe/compiler/tflite_writer.py), either
broken in a structured way (one of CATEGORIES: bad indices, buffers, arity, options, types,
graph order, shapes, quantization, names, subgraphs) or mutated byte by byte. Each case runs in
a forked child with a time limit and must end in exactly one of:

  refused   a TinypipeError (one paragraph), and no output folder was left behind;
  exact     accepted: the generated C, built with ASan+UBSan, gives TFLM's outputs bit for bit.

Anything else is a finding: a traceback, a signal, a hang, a sanitizer report or a failed
compile, a half-written folder, an accepted model TFLM refuses, or outputs that differ.

    python tests/fuzz/tp_fuzz.py --seed 1 --cases 5000 [--corpus tests/fuzz/corpus] [--json out]

`scripts/fuzz.sh` runs a long campaign; tests/fuzz/test_fuzz.py a short one in CI.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import pickle
import re
import select
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinypipe.compiler.tflite_writer import ModelBuilder

GOOD = ("refused", "exact")
CASE_TIMEOUT = 120.0
SAMPLES = 3

# ----------------------------------------------------------------------------- valid seed models


def _q(rng, lo=0.005, hi=0.2) -> float:
    return float(rng.uniform(lo, hi))


def _fc(rng) -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 8), scale=_q(rng), zero_point=int(rng.integers(-20, 20)))
    w = b.tensor((5, 8), scale=[_q(rng, 0.001, 0.02) for _ in range(5)],
                 data=rng.integers(-127, 128, (5, 8)), axis=0)
    bias = b.tensor((5,), "int32", scale=0.0005, data=rng.integers(-300, 300, 5))
    y = b.tensor((1, 5), scale=_q(rng), zero_point=int(rng.integers(-20, 20)))
    b.op("FULLY_CONNECTED", [x, w, bias], [y], "FullyConnectedOptions",
         fused_activation_function="RELU")
    return b.build([x], [y])


def _conv(rng) -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 6, 6, 2), scale=_q(rng), zero_point=int(rng.integers(-20, 20)))
    w = b.tensor((3, 3, 3, 2), scale=[_q(rng, 0.001, 0.02) for _ in range(3)],
                 data=rng.integers(-127, 128, (3, 3, 3, 2)), axis=0)
    bias = b.tensor((3,), "int32", scale=0.0002, data=rng.integers(-300, 300, 3))
    y = b.tensor((1, 3, 3, 3), scale=_q(rng), zero_point=int(rng.integers(-20, 20)))
    b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions", padding="SAME", stride_h=2, stride_w=2,
         dilation_h_factor=1, dilation_w_factor=1)
    return b.build([x], [y])


def _depthwise(rng) -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 5, 5, 2), scale=_q(rng), zero_point=int(rng.integers(-20, 20)))
    w = b.tensor((1, 3, 3, 4), scale=[_q(rng, 0.001, 0.02) for _ in range(4)],
                 data=rng.integers(-127, 128, (1, 3, 3, 4)), axis=3)
    bias = b.tensor((4,), "int32", scale=0.0002, data=rng.integers(-300, 300, 4))
    y = b.tensor((1, 3, 3, 4), scale=_q(rng), zero_point=int(rng.integers(-20, 20)))
    b.op("DEPTHWISE_CONV_2D", [x, w, bias], [y], "DepthwiseConv2DOptions", padding="VALID",
         stride_h=1, stride_w=1, depth_multiplier=2, dilation_h_factor=1, dilation_w_factor=1)
    return b.build([x], [y])


def _pool_softmax(rng) -> bytes:
    b = ModelBuilder()
    s = _q(rng)
    x = b.tensor((1, 4, 4, 3), scale=s, zero_point=3)
    p = b.tensor((1, 2, 2, 3), scale=s, zero_point=3)
    r = b.tensor((1, 12), scale=s, zero_point=3)
    shape = b.tensor((2,), "int32", data=np.array([1, 12]))
    y = b.tensor((1, 12), scale=1 / 256, zero_point=-128)
    b.op("MAX_POOL_2D", [x], [p], "Pool2DOptions", padding="VALID", stride_h=2, stride_w=2,
         filter_height=2, filter_width=2)
    b.op("RESHAPE", [p, shape], [r], "ReshapeOptions", new_shape=[1, 12])
    b.op("SOFTMAX", [r], [y], "SoftmaxOptions", beta=1.0)
    return b.build([x], [y])


def _add_chain(rng) -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 3, 4), scale=_q(rng), zero_point=-5)
    c = b.tensor((1, 3, 4), scale=_q(rng), zero_point=2, data=rng.integers(-128, 128, (1, 3, 4)))
    s = _q(rng)  # CONCATENATION needs its inputs quantized like its output
    a = b.tensor((1, 3, 4), scale=s, zero_point=1)
    r = b.tensor((1, 3, 4), scale=s, zero_point=1)
    y = b.tensor((1, 3, 8), scale=s, zero_point=1)
    b.op("ADD", [x, c], [a], "AddOptions")
    b.op("RELU", [a], [r])
    b.op("CONCATENATION", [r, a], [y], "ConcatenationOptions", axis=2)
    return b.build([x], [y])


def _pad_mean(rng) -> bytes:
    b = ModelBuilder()
    s = _q(rng)
    x = b.tensor((1, 3, 3, 2), scale=s, zero_point=4)
    pads = b.tensor((4, 2), "int32", data=np.array([[0, 0], [1, 1], [1, 0], [0, 0]]))
    p = b.tensor((1, 5, 4, 2), scale=s, zero_point=4)
    ax = b.tensor((2,), "int32", data=np.array([1, 2]))
    y = b.tensor((1, 1, 1, 2), scale=_q(rng), zero_point=-3)
    b.op("PAD", [x, pads], [p])
    b.op("MEAN", [p, ax], [y], "ReducerOptions", keep_dims=True)
    return b.build([x], [y])


SEED_MODELS = [_fc, _conv, _depthwise, _pool_softmax, _add_chain, _pad_mean]

# ----------------------------------------------------------------------------- structured attacks

HOSTILE_NAMES = [
    "x */ int pwned = 1; /*", "n\n#define int8_t float\n", "t ??/\nint y;", "b \\\n int z;",
    "\u202e\x00\x1b[2J é" + "w" * 400, "",
]
BAD_INDICES = [-1, -2, -7, 2**31 - 1, -(2**31)]
BAD_SCALES = [float("nan"), float("inf"), -float("inf"), 0.0, -0.5, 1e-45, 3.4e38, 1e39]
BAD_DIMS = [0, -1, -5, 2**31 - 1, 1 << 20, 7]


def _ints(v) -> list[int]:
    return [] if v is None else [int(x) for x in v]


def _pick(rng, seq):
    return seq[int(rng.integers(0, len(seq)))]


def _attack_index(m, rng) -> str:
    sg = m.subgraphs[0]
    n = len(sg.tensors)
    op = _pick(rng, sg.operators)
    what = int(rng.integers(0, 6))
    bad = _pick(rng, BAD_INDICES + [n, n + 3])
    if what == 0:
        op.inputs = _ints(op.inputs)
        op.inputs[int(rng.integers(0, len(op.inputs)))] = bad
    elif what == 1:
        op.outputs = [bad]
    elif what == 2:
        op.opcodeIndex = _pick(rng, [len(m.operatorCodes), 2**31 - 1, 255])
    elif what == 3:
        _pick(rng, sg.tensors).buffer = _pick(rng, [len(m.buffers), 2**31 - 1])
    elif what == 4:
        sg.inputs = [bad]
    else:
        sg.outputs = [bad]
    return f"index kind {what} value {bad}"


def _attack_buffer(m, rng) -> str:
    full = [b for b in m.buffers if b.data is not None and len(b.data)]
    if not full:
        return "none"
    buf = _pick(rng, full)
    what = int(rng.integers(0, 4))
    data = np.asarray(buf.data, dtype=np.uint8)
    if what == 0:
        buf.data = data[: max(0, len(data) - int(rng.integers(1, 5)))]
    elif what == 1:
        buf.data = np.concatenate([data, np.zeros(int(rng.integers(1, 9)), np.uint8)])
    elif what == 2:  # external buffer pointing into the file or beyond it
        buf.data = None
        buf.offset = int(_pick(rng, [2, 8, 16, 64, 1 << 20, 2**40]))
        buf.size = int(_pick(rng, [len(data), 1, 2**32, 0]))
    else:
        buf.data = np.zeros(0, np.uint8)
    return f"buffer kind {what}"


def _attack_arity(m, rng) -> str:
    sg = m.subgraphs[0]
    op = _pick(rng, sg.operators)
    what = int(rng.integers(0, 5))
    if what == 0:
        op.inputs = _ints(op.inputs)[:-1]
    elif what == 1:
        op.inputs = _ints(op.inputs) + [int(_ints(op.inputs)[0])]
    elif what == 2:
        op.outputs = _ints(op.outputs) + [int(sg.inputs[0])]
    elif what == 3:
        op.outputs = []
    else:
        op.inputs = [-1] * len(_ints(op.inputs))
    return f"arity kind {what}"


_OPTION_FIELDS = {
    "strideW": [0, -1, 2**31 - 1, 100], "strideH": [0, -2, 100],
    "dilationWFactor": [0, -1, 1 << 20], "dilationHFactor": [0, 1 << 20],
    "padding": [2, 7, 255], "fusedActivationFunction": [4, 5, 6, 99],
    "depthMultiplier": [0, -3, 7], "axis": [-9, 9, 2**31 - 1], "beta": [float("nan"), -1.0, 0.0, 1e30],
    "filterWidth": [0, -1, 100], "filterHeight": [0, 1 << 30], "keepDims": [False],
    "weightsFormat": [1, 7], "keepNumDims": [True], "alpha": [float("nan"), float("inf")],
    "newShape": [[0], [-1, -1], [2**31 - 1, 2]],
}


def _attack_options(m, rng) -> str:
    op = _pick(rng, m.subgraphs[0].operators)
    what = int(rng.integers(0, 3))
    if what == 0 or op.builtinOptions is None:
        op.builtinOptions, op.builtinOptionsType = None, 0
        return "options removed"
    if what == 1:
        op.builtinOptions = schema.AddOptionsT() if rng.integers(0, 2) else schema.Pool2DOptionsT()
        op.builtinOptionsType = (
            schema.BuiltinOptions.AddOptions
            if isinstance(op.builtinOptions, schema.AddOptionsT)
            else schema.BuiltinOptions.Pool2DOptions
        )
        return "options of another type"
    fields = [f for f in vars(op.builtinOptions) if f in _OPTION_FIELDS]
    if not fields:
        return "options none"
    f = _pick(rng, fields)
    v = _pick(rng, _OPTION_FIELDS[f])
    setattr(op.builtinOptions, f, v)
    return f"option {f}={v}"


def _attack_type(m, rng) -> str:
    t = _pick(rng, m.subgraphs[0].tensors)
    t.type = int(rng.integers(0, 20)) if rng.integers(0, 4) else int(_pick(rng, [99, 127]))
    return f"type {t.type}"


def _attack_order(m, rng) -> str:
    sg = m.subgraphs[0]
    what = int(rng.integers(0, 6))
    ops = sg.operators
    if what == 0 and len(ops) > 1:
        sg.operators = ops[::-1]
    elif what == 1:
        _pick(rng, ops).outputs = [int(sg.inputs[0])]
    elif what == 2:
        consts = [i for i, t in enumerate(sg.tensors) if t.buffer > 0]
        if consts:
            _pick(rng, ops).outputs = [_pick(rng, consts)]
    elif what == 3:
        sg.operators = ops + [ops[-1]]
    elif what == 4:
        t = schema.TensorT()
        t.shape, t.type, t.buffer, t.name = [1, 4], schema.TensorType.INT8, 0, "dangling"
        sg.tensors.append(t)
        sg.outputs = [len(sg.tensors) - 1]
    else:
        op = _pick(rng, ops)
        op.inputs = _ints(op.inputs)
        op.inputs[0] = int(_ints(op.outputs)[0]) if len(_ints(op.outputs)) else 0
    return f"order kind {what}"


def _attack_shape(m, rng) -> str:
    t = _pick(rng, m.subgraphs[0].tensors)
    shape = _ints(t.shape)
    what = int(rng.integers(0, 4))
    if what == 0 and shape:
        shape[int(rng.integers(0, len(shape)))] = _pick(rng, BAD_DIMS)
    elif what == 1:
        shape = shape + [1, 1, 1, 1]
    elif what == 2:
        shape = shape[:-1]
    else:
        t.shapeSignature = [-1] + shape[1:] if shape else [-1]
    t.shape = shape
    return f"shape kind {what} {shape}"


def _attack_quant(m, rng) -> str:
    ts = [t for t in m.subgraphs[0].tensors if t.quantization is not None]
    if not ts:
        return "none"
    q = _pick(rng, ts).quantization
    what = int(rng.integers(0, 5))
    scale = [float(s) for s in q.scale]
    if what == 0:
        scale[int(rng.integers(0, len(scale)))] = _pick(rng, BAD_SCALES)
        q.scale = scale
    elif what == 1:
        q.zeroPoint = [int(_pick(rng, [128, -129, 300, 2**40, -(2**40)]))] * len(scale)
    elif what == 2:
        q.scale = scale + [0.01]
    elif what == 3:
        q.quantizedDimension = int(_pick(rng, [-1, 3, 7, 2**31 - 1]))
        q.scale = scale if len(scale) > 1 else scale * 2
        q.zeroPoint = [0] * len(q.scale)
    else:
        q.zeroPoint = [0] * (len(scale) + 1)
    return f"quant kind {what}"


def _attack_name(m, rng) -> str:
    for t in m.subgraphs[0].tensors:
        t.name = _pick(rng, HOSTILE_NAMES).encode("utf-8", "surrogatepass")
    m.description = _pick(rng, HOSTILE_NAMES)
    return "names"


def _attack_subgraph(m, rng) -> str:
    what = int(rng.integers(0, 3))
    if what == 0:
        m.subgraphs = []
    elif what == 1:
        m.subgraphs = m.subgraphs * 2
    else:
        m.subgraphs[0].tensors = m.subgraphs[0].tensors[:1]
    return f"subgraph kind {what}"


CATEGORIES = {
    "index": _attack_index,
    "buffer": _attack_buffer,
    "arity": _attack_arity,
    "options": _attack_options,
    "type": _attack_type,
    "order": _attack_order,
    "shape": _attack_shape,
    "quant": _attack_quant,
    "name": _attack_name,
    "subgraph": _attack_subgraph,
}


def _pack(m) -> bytes:
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def mutate_bytes(raw: bytes, rng) -> bytes:
    """Byte-level damage to a valid model: bit flips, interesting values, cuts, splices."""
    data = bytearray(raw)
    for _ in range(int(rng.integers(1, 4))):
        what = int(rng.integers(0, 5))
        pos = int(rng.integers(8, len(data))) if len(data) > 8 else 0
        if what == 0:
            data[pos] ^= 1 << int(rng.integers(0, 8))
        elif what == 1:
            data[pos] = int(_pick(rng, [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE]))
        elif what == 2:
            v = int(_pick(rng, [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, len(data), 4]))
            data[pos : pos + 4] = v.to_bytes(4, "little")
        elif what == 3 and len(data) > 64:
            del data[int(rng.integers(len(data) // 2, len(data))) :]
        else:
            a = int(rng.integers(8, len(data)))
            data[pos:pos] = data[a : a + int(rng.integers(1, 16))]
    return bytes(data)


def make_case(seed: int, k: int) -> tuple[str, bytes, str]:
    """Case k of the campaign `seed`: (category, model bytes, what was done)."""
    rng = np.random.default_rng([seed, k])
    base = SEED_MODELS[int(rng.integers(0, len(SEED_MODELS)))]
    raw = base(rng)
    if k % 2 == 1:  # half the cases are byte-level mutations of a valid model
        return "mutate", mutate_bytes(raw, rng), base.__name__
    cat = list(CATEGORIES)[(k // 2) % len(CATEGORIES)]
    m = schema.ModelT.InitFromPackedBuf(bytearray(raw), 0)
    what = CATEGORIES[cat](m, rng)
    try:
        return cat, _pack(m), f"{base.__name__}: {what}"
    except Exception as exc:  # the schema objects cannot hold this value: mutate instead
        return "mutate", mutate_bytes(raw, rng), f"{base.__name__}: unpackable {type(exc).__name__}"


# ----------------------------------------------------------------------------- running a case


class _Cache:
    """Compiled runtime objects shared by every accepted case (they do not depend on the model)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects: dict[str, Path] = {}


def _build(cmodel, work: Path, cache: _Cache) -> Path:
    import subprocess

    from tinypipe.device.hostrun import SANITIZERS, WARNINGS, find_cc
    from tinypipe.resources import firmware_dir

    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name, text in cmodel.files.items():
        (src / name).write_text(text)
    cc = [find_cc(), "-O0", *WARNINGS, *SANITIZERS]
    objs = []
    for f in sorted(src.glob("*.c")):
        if f.stem == cmodel.name:
            continue
        key = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
        obj = cache.root / f"{f.stem}-{key}.o"
        if not obj.exists():
            tmp = obj.with_suffix(f".{os.getpid()}.tmp")
            subprocess.run([*cc, f"-I{src}", "-c", str(f), "-o", str(tmp)], check=True,
                           capture_output=True)
            os.replace(tmp, obj)
        objs.append(str(obj))
    exe = work / "tp_batch"
    main = firmware_dir() / "link" / "tp_batch_main.c"
    res = subprocess.run(
        [*cc, f'-DTP_MODEL_HEADER="{cmodel.name}.h"', f"-I{src}", str(src / f"{cmodel.name}.c"),
         str(main), *objs, "-o", str(exe)],
        capture_output=True, text=True,
    )
    if res.returncode:
        raise _Finding("compile", res.stderr[-2000:])
    return exe


class _Finding(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def _random_samples(t, rng) -> np.ndarray:
    if np.dtype(t.dtype).kind in "iu":
        info = np.iinfo(t.dtype)
        return rng.integers(info.min, info.max + 1, (SAMPLES, *t.shape), dtype=t.dtype)
    return rng.standard_normal((SAMPLES, *t.shape)).astype(t.dtype)


def run_case(raw: bytes, work: Path, cache: _Cache, seed: int) -> tuple[str, str]:
    """(outcome, detail) for one model; runs in the caller's process (use `run_forked`)."""
    from tinypipe.check.reference import OracleError, run_tflm_all
    from tinypipe.check.validate import compare, outputs_from_raw
    from tinypipe.compiler.codegen import export_c
    from tinypipe.device.hostrun import HostBinary, run_host
    from tinypipe.errors import TinypipeError

    model = work / "model.tflite"
    model.write_bytes(raw)
    out = work / "export"
    try:
        res = export_c(model, out, name="fz")
    except TinypipeError as exc:
        if out.exists():
            return "half_written", str(exc)
        if "\n" in exc.what.strip() and "Traceback" in exc.what:
            return "traceback", exc.what
        return "refused", exc.message
    try:
        exe = _build(res.model, work, cache)
        g = res.model.graph
        rng = np.random.default_rng(seed)
        xs = [_random_samples(t, rng) for t in g.input_tensors]
        try:
            expected = run_tflm_all(g.model_bytes, xs)
        except OracleError as exc:
            return "accepted_tflm_refuses", exc.message
        try:
            raw_out, _ = run_host(HostBinary(exe, res.model, False), xs if len(xs) > 1 else xs[0],
                                  work)
        except RuntimeError as exc:
            return "sanitizer", str(exc)[-3000:]
        n = bad = 0
        for got, want in zip(outputs_from_raw(raw_out, g), expected, strict=True):
            n_k, bad_k, _ = compare(got, want)
            n, bad = n + n_k, bad + bad_k
        return ("exact", f"{n} values") if not bad else ("mismatch", f"{bad}/{n} values differ")
    except _Finding as f:
        return f.kind, str(f)


def run_forked(raw: bytes, cache: _Cache, seed: int, timeout: float = CASE_TIMEOUT):
    """run_case in a forked child: a signal or a hang there is a finding, not the end of the run."""
    with tempfile.TemporaryDirectory(prefix="tpfuzz-") as tmp:
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(rfd)
                os.setpgid(0, 0)
                try:
                    answer = run_case(raw, Path(tmp), cache, seed)
                except Exception:
                    answer = ("traceback", traceback.format_exc()[-3000:])
                os.write(wfd, pickle.dumps(answer))
            except BaseException:
                code = 3
            finally:
                os._exit(code)
        os.close(wfd)
        data = b""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os.close(rfd)
                return "hang", f"no answer within {timeout:.0f} s"
            ready, _, _ = select.select([rfd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(rfd, 1 << 16)
                if not chunk:
                    break
                data += chunk
        os.close(rfd)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            return "signal", signal.Signals(os.WTERMSIG(status)).name
        if not data:
            return "traceback", f"the case process ended with status {status} and no answer"
        return pickle.loads(data)


# ----------------------------------------------------------------------------- campaign


def _refusal_key(detail: str) -> str:
    """Refusals that differ only in numbers and names count as one (for the corpus)."""
    text = re.sub(r"'[^']*'", "''", detail.split(". ")[0])
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "N", text)[:120]


def _preload() -> None:
    """Import everything a case uses once, in the parent, so forked cases do not each pay it."""
    import tinypipe.check.reference as reference
    import tinypipe.check.validate  # noqa: F401
    import tinypipe.compiler.codegen  # noqa: F401
    import tinypipe.device.hostrun  # noqa: F401

    reference._runtime()


def campaign(seed: int, cases: int, corpus: Path | None = None, log=print, start: int = 0) -> dict:
    """Run `cases` cases of campaign `seed`; returns the figures (see module doc)."""
    _preload()
    per_cat: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    findings = []
    seen_keys: set[str] = set()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tpfuzz-cache-") as cache_dir:
        cache = _Cache(Path(cache_dir))
        for k in range(start, start + cases):
            cat, raw, what = make_case(seed, k)
            outcome, detail = run_forked(raw, cache, seed * 100003 + k)
            per_cat[cat][outcome] += 1
            if outcome not in GOOD:
                findings.append({"case": k, "category": cat, "what": what, "outcome": outcome,
                                 "detail": detail[-1500:]})
                log(f"FINDING case {k} [{cat}] {what}: {outcome}: {detail[-400:]}")
            if corpus is not None and outcome != "exact":
                key = f"{cat}:{outcome}:{_refusal_key(detail)}"
                if key not in seen_keys:
                    seen_keys.add(key)
                    name = f"{cat}-{hashlib.sha256(raw).hexdigest()[:12]}.tflite"
                    corpus.mkdir(parents=True, exist_ok=True)
                    (corpus / name).write_bytes(raw)
            if (k - start + 1) % 100 == 0:
                log(f"{k - start + 1}/{cases} cases, {len(findings)} findings, "
                    f"{time.monotonic() - t0:.0f} s")
    totals = collections.Counter()
    for c in per_cat.values():
        totals.update(c)
    return {
        "seed": seed,
        "cases": cases,
        "seconds": round(time.monotonic() - t0, 1),
        "per_category": {c: dict(v) for c, v in sorted(per_cat.items())},
        "totals": dict(totals),
        "findings": findings,
    }


def merge(parts: list[dict]) -> dict:
    """One report from the reports of a campaign split with --start."""
    per_cat: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for p in parts:
        for cat, counts in p["per_category"].items():
            per_cat[cat].update(counts)
    totals = collections.Counter()
    for c in per_cat.values():
        totals.update(c)
    return {
        "seed": parts[0]["seed"],
        "cases": sum(p["cases"] for p in parts),
        "seconds": max(p["seconds"] for p in parts),
        "per_category": {c: dict(v) for c, v in sorted(per_cat.items())},
        "totals": dict(totals),
        "findings": [f for p in parts for f in p["findings"]],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--merge", nargs="+", metavar=("OUT", "PART"),
                    help="merge the JSON reports PART... into OUT and print the figures")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=500)
    ap.add_argument("--start", type=int, default=0, help="first case index (to split a campaign)")
    ap.add_argument("--corpus", type=Path, help="save one model per distinct outcome here")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    if args.merge:
        out, *parts = args.merge
        report = merge([json.loads(Path(p).read_text()) for p in parts])
        args.json = Path(out)
    else:
        report = campaign(args.seed, args.cases, args.corpus, start=args.start)
    text = json.dumps(report, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "findings"}, indent=1))
    print(f"{len(report['findings'])} findings")
    return 1 if report["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
