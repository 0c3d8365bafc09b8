"""Data-movement ops (TRANSPOSE, SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, UNPACK, PACK, GATHER,
DEPTH_TO_SPACE, SPACE_TO_DEPTH): tinypipe's int8 kernels against the TFLM interpreter, bit for bit.

Randomized one-op models built directly: ranks 1..5, random permutations, boxes, negative
indices and steps, begin/end/shrink masks, axes (negative too), split sizes, indices (repeated,
any order), block sizes. Ops with several outputs are tested inside single-output graphs: the
pieces are put back together in another order by CONCATENATION or PACK, or one piece is the
model output and the others are dropped.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import labelled_failure, run_random_cases

from tinypipe.check.validate import validate_host
from tinypipe.compiler.ops.strided import merge_view
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def _q(rng: np.random.Generator) -> dict:
    return {"scale": float(10 ** rng.uniform(-3, 0)), "zero_point": int(rng.integers(-128, 128))}


def _shape(rng: np.random.Generator, lo: int = 1, hi: int = 5, max_rank: int = 4) -> list[int]:
    return [int(d) for d in rng.integers(lo, hi + 1, int(rng.integers(1, max_rank + 1)))]


def _ints(b: ModelBuilder, values, dtype: str = "int32") -> int:
    arr = np.asarray(values, dtype=dtype)
    return b.tensor(arr.shape, dtype, data=arr)


# ----------------------------------------------------------------------------- TRANSPOSE


def random_transpose(rng):
    shape = _shape(rng, max_rank=5 if rng.random() < 0.3 else 4, hi=4)
    return {"shape": shape, "perm": [int(p) for p in rng.permutation(len(shape))], "q": _q(rng)}


def build_transpose(cfg, rng):
    b = ModelBuilder()
    x = b.tensor(cfg["shape"], **cfg["q"])
    y = b.tensor([cfg["shape"][p] for p in cfg["perm"]], **cfg["q"])
    b.op("TRANSPOSE", [x, _ints(b, cfg["perm"])], [y], version=2)
    return b.build([x], [y])


def test_transpose_random_bit_exact() -> None:
    run_random_cases(random_transpose, build_transpose, 7000, 8)


# ----------------------------------------------------------------------------- SLICE


def random_slice(rng):
    shape = _shape(rng, max_rank=5)
    begin = [int(rng.integers(0, d)) for d in shape]
    size = [
        int(rng.integers(1, d - b + 1)) if rng.random() < 0.7 else -1 for d, b in zip(shape, begin)
    ]
    return {
        "shape": shape,
        "begin": begin,
        "size": size,
        "q": _q(rng),
        "int64": bool(rng.random() < 0.3),
    }


def build_slice(cfg, rng):
    b = ModelBuilder()
    x = b.tensor(cfg["shape"], **cfg["q"])
    out = [d - s if n == -1 else n for d, s, n in zip(cfg["shape"], cfg["begin"], cfg["size"])]
    y = b.tensor(out, **cfg["q"])
    dt = "int64" if cfg["int64"] else "int32"
    b.op("SLICE", [x, _ints(b, cfg["begin"], dt), _ints(b, cfg["size"], dt)], [y], version=2)
    return b.build([x], [y])


def test_slice_random_bit_exact() -> None:
    run_random_cases(random_slice, build_slice, 7100, 6)


# ----------------------------------------------------------------------------- STRIDED_SLICE


def _tf_slice(shape, begin, end, steps, begin_mask, end_mask, shrink) -> tuple[list, list]:
    """numpy's slicing (which TF's strided_slice follows) for the output shape."""
    index = []
    for a in range(len(shape)):
        if shrink >> a & 1:
            index.append(begin[a])
            continue
        start = None if begin_mask >> a & 1 else begin[a]
        stop = None if end_mask >> a & 1 else end[a]
        index.append(slice(start, stop, steps[a]))
    return list(np.zeros(shape)[tuple(index)].shape), index


def random_strided_slice(rng):
    while True:
        shape = _shape(rng, hi=7, max_rank=4)
        rank = len(shape)
        steps = [int(rng.choice([1, 1, 2, 3, -1, -2])) for _ in shape]
        begin = [int(rng.integers(-d - 1, d + 2)) for d in shape]
        end = [int(rng.integers(-d - 1, d + 2)) for d in shape]
        masks = [int(rng.integers(0, 1 << rank)) if rng.random() < 0.5 else 0 for _ in range(3)]
        shrink = masks[2]
        for a, d in enumerate(shape):  # a shrunk axis takes one in-range element
            if shrink >> a & 1:
                begin[a], steps[a] = int(rng.integers(-d, d)), 1
                end[a] = begin[a] + 1
        out, _ = _tf_slice(shape, begin, end, steps, masks[0], masks[1], shrink)
        if out and min(out) > 0:
            return {"shape": shape, "begin": begin, "end": end, "steps": steps,
                    "begin_mask": masks[0], "end_mask": masks[1], "shrink": shrink,
                    "out": out, "q": _q(rng)}  # fmt: skip


def build_strided_slice(cfg, rng):
    b = ModelBuilder()
    x = b.tensor(cfg["shape"], **cfg["q"])
    y = b.tensor(cfg["out"], **cfg["q"])
    ins = [x, _ints(b, cfg["begin"]), _ints(b, cfg["end"]), _ints(b, cfg["steps"])]
    b.op(
        "STRIDED_SLICE", ins, [y], "StridedSliceOptions", version=2,
        begin_mask=cfg["begin_mask"], end_mask=cfg["end_mask"], shrink_axis_mask=cfg["shrink"],
    )  # fmt: skip
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(2))
def test_strided_slice_random_bit_exact(chunk: int) -> None:
    run_random_cases(random_strided_slice, build_strided_slice, 7200 + 10 * chunk, 8)


# ----------------------------------------------------------------------------- SPLIT / SPLIT_V / UNPACK


def random_split(rng):
    shape = _shape(rng, max_rank=4)
    axis = int(rng.integers(0, len(shape)))
    shape[axis] = int(rng.integers(2, 7))
    kind = str(rng.choice(["SPLIT", "SPLIT_V", "UNPACK"]))
    if kind == "SPLIT":
        n = int(rng.choice([d for d in range(1, shape[axis] + 1) if shape[axis] % d == 0]))
        sizes = [shape[axis] // n] * n
    elif kind == "SPLIT_V":
        cuts = sorted(
            rng.choice(np.arange(1, shape[axis]), int(rng.integers(1, shape[axis])), replace=False)
        )
        sizes = [int(e - s) for s, e in zip([0, *cuts], [*cuts, shape[axis]])]
    else:
        sizes = [1] * shape[axis]
    return {
        "shape": shape, "axis": axis, "neg": bool(rng.random() < 0.3), "kind": kind,
        "sizes": sizes, "infer": bool(rng.random() < 0.3), "order": [int(i) for i in rng.permutation(len(sizes))],
        "keep_one": bool(rng.random() < 0.25), "q": _q(rng),
    }  # fmt: skip


def build_split(cfg, rng):
    """The pieces concatenated (or packed, for UNPACK) back in cfg['order'], or only one kept."""
    shape, axis, sizes, kind = cfg["shape"], cfg["axis"], cfg["sizes"], cfg["kind"]
    ax = axis - len(shape) if cfg["neg"] else axis
    b = ModelBuilder()
    x = b.tensor(shape, **cfg["q"])

    def piece_shape(s: int) -> list[int]:
        return shape[:axis] + ([] if kind == "UNPACK" else [s]) + shape[axis + 1 :]

    pieces = [b.tensor(piece_shape(s), **cfg["q"]) for s in sizes]
    if kind == "SPLIT":
        b.op("SPLIT", [_ints(b, [ax]), x], pieces, "SplitOptions", version=3, num_splits=len(sizes))
    elif kind == "SPLIT_V":
        given = list(sizes)
        if cfg["infer"]:
            given[int(rng.integers(0, len(given)))] = -1
        ins = [x, _ints(b, given), _ints(b, [ax])]
        b.op("SPLIT_V", ins, pieces, "SplitVOptions", version=2, num_splits=len(sizes))
    else:
        b.op("UNPACK", [x], pieces, "UnpackOptions", version=2, num=len(sizes), axis=ax)
    if cfg["keep_one"]:
        return b.build([x], [pieces[cfg["order"][0]]])
    ordered = [pieces[i] for i in cfg["order"]]
    if kind == "UNPACK":
        y = b.tensor(shape, **cfg["q"])
        b.op("PACK", ordered, [y], "PackOptions", version=2, values_count=len(sizes), axis=axis)
    else:
        total = list(shape)
        y = b.tensor(total, **cfg["q"])
        b.op("CONCATENATION", ordered, [y], "ConcatenationOptions", axis=axis)
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(2))
def test_split_unpack_random_bit_exact(chunk: int) -> None:
    run_random_cases(random_split, build_split, 7300 + 10 * chunk, 8)


# ----------------------------------------------------------------------------- PACK


def random_pack(rng):
    shape = _shape(rng, max_rank=3)
    return {
        "shape": shape,
        "n": int(rng.integers(1, 5)),
        "axis": int(rng.integers(-len(shape) - 1, len(shape) + 1)),
        "q": _q(rng),
    }


def build_pack(cfg, rng):
    """The model input stacked with constants (and itself)."""
    shape, n = cfg["shape"], cfg["n"]
    b = ModelBuilder()
    x = b.tensor(shape, **cfg["q"])
    ins = [
        x
        if rng.random() < 0.5
        else b.tensor(shape, **cfg["q"], data=rng.integers(-128, 128, shape))
        for _ in range(n)
    ]
    ins[int(rng.integers(0, n))] = x
    axis = cfg["axis"] % (len(shape) + 1)
    y = b.tensor(shape[:axis] + [n] + shape[axis:], **cfg["q"])
    b.op("PACK", ins, [y], "PackOptions", version=2, values_count=n, axis=cfg["axis"])
    return b.build([x], [y])


def test_pack_random_bit_exact() -> None:
    run_random_cases(random_pack, build_pack, 7400, 6)


# ----------------------------------------------------------------------------- GATHER


def random_gather(rng):
    shape = _shape(rng, max_rank=4)
    axis = int(rng.integers(0, len(shape)))
    idx_shape = _shape(rng, hi=4, max_rank=2)
    return {
        "shape": shape, "axis": axis, "neg": bool(rng.random() < 0.3),
        "indices": rng.integers(0, shape[axis], idx_shape).tolist(),
        "q": _q(rng),
    }  # fmt: skip


def build_gather(cfg, rng):
    shape, axis = cfg["shape"], cfg["axis"]
    idx = np.asarray(cfg["indices"])
    b = ModelBuilder()
    x = b.tensor(shape, **cfg["q"])
    y = b.tensor(shape[:axis] + list(idx.shape) + shape[axis + 1 :], **cfg["q"])
    ax = axis - len(shape) if cfg["neg"] else axis
    i = _ints(b, idx)
    b.op("GATHER", [x, i], [y], "GatherOptions", version=2, axis=ax)
    return b.build([x], [y])


def test_gather_random_bit_exact() -> None:
    run_random_cases(random_gather, build_gather, 7500, 6)


# ----------------------------------------------------------------------------- DEPTH_TO_SPACE / SPACE_TO_DEPTH


def random_depth_space(rng):
    return {
        "op": str(rng.choice(["DEPTH_TO_SPACE", "SPACE_TO_DEPTH"])), "block": int(rng.integers(1, 4)),
        "n": int(rng.choice([1, 1, 2])), "h": int(rng.integers(1, 4)), "w": int(rng.integers(1, 4)),
        "c": int(rng.integers(1, 4)), "q": _q(rng),
    }  # fmt: skip


def build_depth_space(cfg, rng):
    k, n, h, w, c = cfg["block"], cfg["n"], cfg["h"], cfg["w"], cfg["c"]
    small, big = [n, h, w, c * k * k], [n, h * k, w * k, c]
    d2s = cfg["op"] == "DEPTH_TO_SPACE"
    b = ModelBuilder()
    x = b.tensor(small if d2s else big, **cfg["q"])
    y = b.tensor(big if d2s else small, **cfg["q"])
    options = "DepthToSpaceOptions" if d2s else "SpaceToDepthOptions"
    b.op(cfg["op"], [x], [y], options, version=2, block_size=k)
    return b.build([x], [y])


def test_depth_space_random_bit_exact() -> None:
    run_random_cases(random_depth_space, build_depth_space, 7600, 8)


# ----------------------------------------------------------------------------- refusals and helpers


def test_merge_view_folds_contiguous_dims() -> None:
    # NHWC slice of whole rows: H and W*C merge, the batch and size-1 dims go.
    assert merge_view([1, 3, 4, 2], [96, 16, 2, 1]) == ([3, 8], [16, 1])
    # A transpose keeps its two dims; a reversed axis keeps its negative step.
    assert merge_view([2, 3], [1, 2]) == ([2, 3], [1, 2])
    assert merge_view([4, 5], [-5, 1]) == ([4, 5], [-5, 1])


def test_gather_rejects_out_of_range_index() -> None:
    cfg = {"shape": [2, 3], "axis": 1, "neg": False, "indices": [0, 3],
           "q": {"scale": 0.1, "zero_point": 0}}  # fmt: skip
    with pytest.raises(UnsupportedModelError, match="outside"):
        validate_host(build_gather(cfg, None), np.zeros((1, 2, 3), np.int8))


def test_strided_slice_rejects_ellipsis() -> None:
    b = ModelBuilder()
    x = b.tensor((2, 3), scale=0.1, zero_point=0)
    y = b.tensor((2, 3), scale=0.1, zero_point=0)
    ins = [x, _ints(b, [0, 0]), _ints(b, [2, 3]), _ints(b, [1, 1])]
    b.op("STRIDED_SLICE", ins, [y], "StridedSliceOptions", ellipsis_mask=1)
    with labelled_failure("ellipsis"), pytest.raises(UnsupportedModelError, match="ellipsis"):
        validate_host(b.build([x], [y]), np.zeros((1, 2, 3), np.int8))
