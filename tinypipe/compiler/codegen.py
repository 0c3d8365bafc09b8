"""Graph + memory plan -> standalone C (model.h, model.c and the runtime kernels it calls).

All decisions are made here; the Jinja templates in templates/c/ only print them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np

from tinypipe.errors import UnsupportedModelError
from tinypipe.outdir import check_outdir, write_files
from tinypipe.resources import firmware_dir, template_env

from . import ops
from .arena_regions import arena_regions, regions_c_array
from .conv_gen import ConvKernel, conv_contexts, specialize_conv
from .ctext import c_comment_text, check_c_name
from .custom_ops import vela_refusal
from .depthwise_gen import DwKernel, specialize_depthwise
from .depthwise_gen import kernel_context as depthwise_context
from .flash_budget import (
    INT16_FUNCS,
    LayerLayout,
    WeightLayouts,
    code_flash_estimate,
    demotion_order,
    layer_kind,
    over_budget,
)
from .fully_connected_gen import DenseKernel, dense_context, specialize_fully_connected
from .fusion import fuse_rows
from .graph import Graph, Operator, Tensor, read_tflite
from .inplace import choose_inplace
from .iolayout import Packing
from .ops.base import C, Lowered, P, Raw, T
from .order import OrderChoice, reorder, search_order
from .patches import DEFAULT_MAX_RECOMPUTE, Patching, choose_patches
from .planner import MemoryPlan, plan_memory
from .pointwise import Kernel, kernel_context, specialize_pointwise
from .shapes import check_static_shapes
from .thumb1 import GUARD as THUMB1_GUARD
from .thumb1 import thumb1_depthwise_blob, thumb1_filter16, thumb1_pointwise_blob

_CTYPES = {
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "uint16": "uint16_t",
    "int32": "int32_t",
    "uint32": "uint32_t",
    "int64": "int64_t",
    "float32": "float",
}


@dataclass
class CModel:
    name: str
    graph: Graph
    lowered: list[Lowered]
    plan: MemoryPlan
    files: dict[str, str]  # file name -> content
    weight_bytes: int
    sources: list[str] = field(default_factory=list)  # runtime stems used
    patches: Patching | None = None  # the layers run patch by patch, if any
    max_recompute: float = 0.0  # the bound the patches were chosen under
    pointwise: list[Kernel] = field(default_factory=list)  # generated pointwise kernels
    dense: list[DenseKernel] = field(default_factory=list)  # generated FULLY_CONNECTED kernels
    depthwise: list[DwKernel] = field(default_factory=list)  # generated DEPTHWISE_CONV_2D kernels
    convs: list[ConvKernel] = field(default_factory=list)  # generated CONV_2D tiles (conv_gen.py)
    # `graph` runs its operators in this order: the .tflite's index of each, by position
    order: list[int] = field(default_factory=list)
    order_choice: OrderChoice | None = None
    # the .tflite's operator index -> bytes of its op-local constant arrays (not the tensors)
    const_bytes: dict[int, int] = field(default_factory=dict)
    weight_tensors: frozenset[int] = frozenset()  # the constant tensors the C holds
    layouts: WeightLayouts = field(default_factory=WeightLayouts)  # int16/int8 weights per layer

    @property
    def code_estimate(self) -> int:
        """The fit check's flash estimate of the code (flash_budget.code_flash_estimate)."""
        kernels = sum(1 for f in self.files if f.endswith(".c") and f != f"{self.name}.c")
        return code_flash_estimate(kernels)

    @property
    def flash_estimate(self) -> int:
        """The fit check's flash estimate of the firmware: weights and code."""
        return self.weight_bytes + self.code_estimate

    @property
    def order_summary(self) -> str:
        """One line for the compile summary: the layer order and the RAM it saves."""
        if self.order_choice is None:
            return "Order: as given" if self.order != sorted(self.order) else "Order: the file's"
        return self.order_choice.summary()

    def file_index(self, k: int) -> int:
        """The .tflite's operator index of the operator `graph` runs k-th."""
        return self.order[k] if self.order else k

    def by_file_index(self, values: list) -> list:
        """Per-operator values in execution order (e.g. `plan.live_bytes`) in .tflite order."""
        out = list(values)
        for k, v in enumerate(values):
            out[self.file_index(k)] = v
        return out

    @property
    def patches_summary(self) -> str:
        """One line for the compile summary: the split, the grid, RAM before/after, recompute."""
        if self.patches is not None:
            return self.patches.summary(self.file_index)
        if self.max_recompute <= 0:
            return "Patches: off (max recompute 0 %)"
        return (
            "Patches: none (no chain of convolutions and poolings from the input needs less RAM "
            f"patch by patch within {100 * self.max_recompute:g} % extra MACs)"
        )

    @property
    def arena_size(self) -> int:
        return self.plan.arena_size

    @property
    def io_bytes(self) -> int:
        """Input and output bytes outside the arena (an input may live inside it)."""
        outside = [t for t in self.graph.input_tensors if self.plan.storage[t.index][0] != "arena"]
        return sum(t.nbytes for t in outside + self.graph.output_tensors)


@dataclass
class ExportResult:
    files: list[str]
    arena_size: int
    weight_bytes: int
    model: CModel


def _env() -> jinja2.Environment:
    return template_env("c")


def check_graph(graph: Graph) -> None:
    """Model-level checks that come before any op is looked at."""
    vela = vela_refusal(graph)
    if vela is not None:
        raise vela
    if not any(t.dtype in ("int8", "int16") and t.quant is not None for t in graph.tensors):
        raise UnsupportedModelError(
            f"{graph.source or 'The model'} is a float model: no tensor is quantized int8 or int16.",
            "Quantize it to full int8 first (`tinypipe quantize MODEL.keras -o model.tflite`).",
        )
    if graph.num_subgraphs != 1:
        raise UnsupportedModelError(
            f"The model has {graph.num_subgraphs} subgraphs; the compiled C backend runs exactly one.",
            "Remove control flow (tf.cond / while loops) from the model before converting it.",
        )
    if not graph.inputs or not graph.outputs:
        raise UnsupportedModelError(
            f"The model has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
            "a compiled model needs at least one of each.",
            "Check that the right model file was given.",
        )
    for kind, io in (("input", graph.inputs), ("output", graph.outputs)):
        if len(set(io)) != len(io):
            raise UnsupportedModelError(
                f"The model lists the same tensor as two of its {kind}s.",
                "Re-export the model so that every input and output is a distinct tensor.",
            )
    check_static_shapes(graph)


def lower_all(graph: Graph) -> list[Lowered]:
    check_graph(graph)
    return [ops.lower(op, graph) for op in graph.operators]


def _c_literal(v: object) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        v = int(v)
        return "INT32_MIN" if v == -(2**31) else str(v)
    if isinstance(v, (float, np.floating)):
        return _c_float(float(v))
    raise TypeError(f"cannot print {v!r} as C")


def _c_float(x: float) -> str:
    f = np.float32(x)
    if np.isinf(f):
        return "INFINITY" if f > 0 else "-INFINITY"
    return f"{float(f):.9e}f"


def _format_array(values: np.ndarray, per_line: int = 16) -> str:
    flat = np.asarray(values).ravel()
    if flat.dtype.kind == "f":
        items = [_c_float(x) for x in flat]
    else:
        items = ["INT32_MIN" if int(x) == -(2**31) else str(int(x)) for x in flat]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n    ".join(lines)


class _Emitter:
    """Resolves tensor references to C expressions for one model."""

    def __init__(self, name: str, graph: Graph, plan: MemoryPlan) -> None:
        self.name, self.graph, self.plan = name, graph, plan
        self.weights: dict[int, Tensor] = {}
        self.states: dict[int, Tensor] = {}
        self.used_io: set[str] = set()

    def tensor_expr(self, i: int) -> str:
        t = self.graph.tensors[i]
        ctype = _CTYPES[t.dtype]
        kind, value = self.plan.storage[i]
        if kind == "const":
            root = self.graph.tensors[value]
            self.weights[root.index] = root
            return f"{self.name}_w{root.index}"
        if kind == "state":
            self.states[value] = self.graph.tensors[value]
            return f"{self.name}_s{value}"
        if kind in ("input", "output"):
            io = self.graph.inputs if kind == "input" else self.graph.outputs
            param = io_param(kind, value, len(io))
            self.used_io.add(param)
            return f"({'const ' if kind == 'input' else ''}{ctype} *){param}"
        return f"({ctype} *)&{self.name}_arena.bytes[{value}]"

    def expr(self, v: object, op: Operator) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, T):
            return self.tensor_expr(v.index)
        if isinstance(v, C):
            return f"{self.name}_op{op.index if v.op is None else v.op}_{v.name}"
        if isinstance(v, P):
            return f"&{self.name}_op{v.op}_layer"
        if isinstance(v, Raw):
            return v.text
        return _c_literal(v)


def generate_c(
    graph: Graph,
    name: str = "model",
    inplace: bool = True,
    fuse: bool = True,
    max_recompute: float = DEFAULT_MAX_RECOMPUTE,
    generated: bool = True,
    order: list[int] | None = None,
    flash_budget: int | None = None,
    strict_budget: bool = True,
    cpu: str | None = None,
) -> CModel:
    """Lower, plan and render a model. Raises before producing anything if the model is unsupported.

    `inplace=False` keeps every layer's output apart from its input and the model's input in the
    caller's buffer (the plan before inplace.py); `fuse=False` (with `inplace`) runs layer
    pairs and residual blocks layer by layer instead of fused (fusion.py). With `inplace`, the
    first layers run patch by patch (patches.py) when that needs fewer bytes at a cost of at most
    `max_recompute` extra MACs (a fraction of the model's; 0 never patches).
    `generated=False` runs pointwise, other conv, depthwise and dense layers on the runtime's
    kernels instead of generated ones (pointwise.py, conv_gen.py, depthwise_gen.py,
    fully_connected_gen.py).
    `order` runs the operators in that order (the .tflite's indices, a valid order); by default
    the order needing the fewest bytes is searched for (order.py), the file's kept on ties.
    `flash_budget` bounds the firmware's estimated flash (weights + code): convolutions go back
    from int16-expanded to int8 weights, fewest instructions saved per byte first, until it fits
    (flash_budget.py); DoesNotFitError if it cannot, or with `strict_budget=False` the model
    with every layer on int8 weights (for a fit check that reports it). The choice is in
    `CModel.layouts`; `cpu` (a board's, e.g. "cortex-m0") picks the instructions-per-MAC figures
    it is ranked by (flash_budget.INSTRUCTIONS_PER_MAC; the Cortex-M4's by default)."""
    check_c_name(name)
    if not 0 <= max_recompute <= 1:
        raise ValueError(f"max_recompute must lie in [0, 1], not {max_recompute}")
    if flash_budget is not None and flash_budget < 1:
        raise ValueError(f"flash_budget must be a positive number of bytes, not {flash_budget}")
    lowered = lower_all(graph)
    settings = (name, inplace, fuse, max_recompute, generated, order)
    cmodel = _render(graph, lowered, *settings)
    layouts, int8_lowered = _layouts(graph, lowered, cmodel, flash_budget, cpu)
    if flash_budget is not None and cmodel.flash_estimate > flash_budget:
        ranked = demotion_order(layouts.layers)

        def demote(count: int) -> CModel:
            """The model with the first `count` ranked layers on int8 weights."""
            int8 = {x.op for x in ranked[:count]}
            low = [int8_lowered[k] if k in int8 else lw for k, lw in enumerate(lowered)]
            return _render(graph, low, *settings)

        # As many layers as the exact bytes need, then one more at a time should the code
        # estimate have grown, or one fewer should it have shrunk (a kernel source dropped).
        over, count = cmodel.flash_estimate - flash_budget, 0
        while count < len(ranked) and over > 0:
            over -= ranked[count].extra_bytes
            count += 1
        cmodel = demote(count) if count else cmodel
        while cmodel.flash_estimate > flash_budget and count < len(ranked):
            count += 1
            cmodel = demote(count)
        if cmodel.flash_estimate > flash_budget:
            if strict_budget:
                raise over_budget(name, flash_budget, cmodel.weight_bytes, cmodel.code_estimate)
        elif count > 0:
            fewer = demote(count - 1)
            if fewer.flash_estimate <= flash_budget:
                cmodel, count = fewer, count - 1
        for x in ranked[:count]:
            x.int16 = False
    layouts.flash_bytes = cmodel.flash_estimate
    cmodel.layouts = layouts
    return cmodel


def _layouts(
    graph: Graph, lowered: list[Lowered], cmodel: CModel, budget: int | None, cpu: str | None
) -> tuple[WeightLayouts, dict[int, Lowered]]:
    """The layers lowered on int16-expanded weights, with their extra flash bytes: the bytes of
    their constant arrays in `cmodel` (rendered with every one of them on int16 weights) over
    those of their int8 lowering and its weight tensor (unless the model stores it anyway); and
    those int8 lowerings by operator index, for the layers a budget sends back."""
    from .summary import op_macs  # summary.py imports this module

    layers, int8_lowered = [], {}
    for k, (op, low) in enumerate(zip(graph.operators, lowered)):
        if low.func not in INT16_FUNCS:
            continue
        int8 = int8_lowered[k] = ops.lower(op, graph, int16_weights=False)
        weights = graph.tensors[op.inputs[1]]
        stored = cmodel.plan.storage.get(weights.index)
        shared = stored is not None and stored[0] == "const" and stored[1] in cmodel.weight_tensors
        int8_bytes = _array_bytes(int8.consts) + (0 if shared else weights.nbytes)
        layers.append(
            LayerLayout(
                op=k,
                opcode=op.opcode,
                kind=layer_kind(op.opcode, tuple(weights.shape[1:3])),
                macs=op_macs(op, graph),
                extra_bytes=cmodel.const_bytes.get(k, 0) - int8_bytes,
                cpu=cpu,
            )
        )
    return WeightLayouts(layers, budget, cpu=cpu), int8_lowered


def _array_bytes(consts: dict[str, np.ndarray]) -> int:
    return sum(max(np.asarray(a).size, 1) * np.asarray(a).itemsize for a in consts.values())


def _render(
    graph: Graph,
    lowered: list[Lowered],
    name: str,
    inplace: bool,
    fuse: bool,
    max_recompute: float,
    generated: bool,
    order: list[int] | None,
) -> CModel:
    """Plan and render the model from its layers' lowering (generate_c's arguments)."""
    source = graph

    def build(
        order: list[int],
    ) -> tuple[int, list[Lowered], tuple[Graph, list[Lowered], MemoryPlan, Patching | None]]:
        # a layer's lowering does not depend on its position: the file order's, permuted
        g = source if order == sorted(order) else reorder(source, order)
        low = [lowered[k] for k in order]
        patching = None
        if inplace:
            low, plan, patching = choose_patches(
                g, low, max_recompute, lambda lw: _plan(g, lw, True, fuse)
            )
        else:
            low, plan = _plan(g, low, False, fuse)
        outside = [t for t in g.input_tensors if plan.storage[t.index][0] != "arena"]
        ram = plan.arena_size + sum(t.nbytes for t in outside + g.output_tensors)
        return ram, low, (g, low, plan, patching)

    choice = None
    if order is None:
        choice = search_order(graph, lowered, build)
        graph, lowered, plan, patching = choice.result
        order = choice.order
    else:
        order = list(order)
        graph, lowered, plan, patching = build(order)[2]
    em = _Emitter(name, graph, plan)
    regions = arena_regions(graph, lowered, plan)
    lowered, kernels = specialize_pointwise(name, graph, lowered, enabled=generated)
    lowered, convs = specialize_conv(name, graph, lowered, enabled=generated)
    lowered, dense = specialize_fully_connected(name, graph, lowered, enabled=generated)
    lowered, depthwise = specialize_depthwise(name, graph, lowered, enabled=generated)

    consts, params, calls = [], [], []
    const_bytes: dict[int, int] = {}  # the .tflite's operator index -> its layer's arrays' bytes

    def add_consts(op: Operator, low: Lowered, own: bool = True) -> None:
        """The arrays of `low` (the op's layer if `own`, else a driver's such as a patch table)."""
        arrays = _consts(name, graph, op, low)
        consts.extend(arrays)
        if own:
            k = order[op.index]
            nbytes = sum(c["count"] * np.dtype(_np_of(c["ctype"])).itemsize for c in arrays)
            const_bytes[k] = const_bytes.get(k, 0) + nbytes

    for op, low in zip(graph.operators, lowered):
        layer = low if low.fused_into is not None else low.inner
        if layer is not None:  # computed inside a fused call: its constants and parameters
            add_consts(op, layer)
            fields = [(k, em.expr(v, op)) for k, v in layer.params.items()]
            params.append(
                {"type": layer.params_type, "name": f"{name}_op{op.index}_layer", "fields": fields}
            )
        if not low.emits_code:
            if low.fused_into is not None:
                how = "patch" if lowered[low.fused_into].func == "tp_patches_s8" else "row"
                note = f"computed {how} by {how} inside #{order[low.fused_into]}"
            elif low.alias:
                note = "shares its input's memory"
            else:
                note = "shape arithmetic nothing uses"
            calls.append(
                {
                    "index": op.index,
                    "op": order[op.index],
                    "opcode": c_comment_text(op.opcode),
                    "code": None,
                    "trace": None,
                    "note": note,
                }
            )
            continue
        add_consts(op, low, own=low.inner is None)  # a driver standing in: its layer is `inner`
        args = []
        if low.params_type:
            pname = f"{name}_op{op.index}_params"
            fields = [(k, em.expr(v, op)) for k, v in low.params.items()]
            params.append({"type": low.params_type, "name": pname, "fields": fields})
            args.append(f"&{pname}")
        args += [em.expr(a, op) for a in low.args]
        if low.scratch_bytes:
            args.append(f"(void *)&{name}_arena.bytes[{plan.scratch[op.index]}]")
        out = graph.tensors[op.outputs[0]]
        calls.append(
            {
                "index": op.index,
                "op": order[op.index],
                "opcode": c_comment_text(op.opcode),
                "code": f"{low.func}({', '.join(args)});",
                "trace": (em.tensor_expr(out.index), out.nbytes),
                "regions": ", ".join(str(v) for v in regions_c_array(regions[op.index])),
            }
        )

    weights = []
    weight_bytes = 0
    for idx in sorted(em.weights):
        t = em.weights[idx]
        weight_bytes += t.nbytes
        weights.append(
            {
                "ctype": _CTYPES[t.dtype],
                "name": f"{name}_w{idx}",
                "count": max(t.size, 1),
                "body": _format_array(t.data),
                "comment": f"{c_comment_text(t.name)} {list(t.shape)}",
            }
        )
    for c in consts:
        weight_bytes += c["count"] * np.dtype(_np_of(c["ctype"])).itemsize

    states = [_state_info(name, em.states[i]) for i in sorted(em.states)]
    sources = sorted({s for low in lowered if low.emits_code for s in (low.source, *low.requires)})
    ins, outs = graph.input_tensors, graph.output_tensors
    ctx = {
        "name": name,
        "NAME": name.upper(),
        "model_sha256": hashlib.sha256(graph.model_bytes).hexdigest(),
        "source": c_comment_text(Path(graph.source.strip("'")).name) if graph.source else "",
        "inputs": [_io_info(t, "input", k, len(ins)) for k, t in enumerate(ins)],
        "outputs": [_io_info(t, "output", k, len(outs)) for k, t in enumerate(outs)],
        "multi_io": len(ins) > 1 or len(outs) > 1,
        "unused_io": [
            io_param(kind, k, len(ts))
            for kind, ts in (("input", ins), ("output", outs))
            for k in range(len(ts))
            if io_param(kind, k, len(ts)) not in em.used_io
            and not (kind == "input" and _input_offset(plan, graph) is not None)
        ],
        "packed": {
            "inputs": list(zip(Packing.of(ins).offsets, range(len(ins)))),
            "outputs": list(zip(Packing.of(outs).offsets, range(len(outs)))),
            "in_bytes": Packing.of(ins).nbytes,
            "out_bytes": Packing.of(outs).nbytes,
        },
        "arena_size": plan.arena_size,
        "input_offset": _input_offset(plan, graph),
        "weights": weights,
        "states": states,
        "consts": consts,
        "params": params,
        "calls": calls,
        "headers": [f"{s}.h" for s in sources],
        "kernels": [kernel_context(k) for k in kernels],
        "dense_kernels": [dense_context(k) for k in dense],
        "depthwise_kernels": [depthwise_context(k) for k in depthwise],
        "conv_kernels": conv_contexts(name, convs),
        "num_ops": len(graph.operators),
    }
    env = _env()
    files = {
        f"{name}.h": env.get_template("model.h.j2").render(ctx),
        f"{name}.c": env.get_template("model.c.j2").render(ctx),
    }
    runtime = firmware_dir() / "runtime"
    # The 16x8 helpers go along with the 16x8 kernels and any other whose header includes them.
    headers = [runtime / f"{s}.h" for s in sources]
    s16 = any(s.endswith("_s16") for s in sources) or any(
        h.exists() and '"tp_common_s16.h"' in h.read_text() for h in headers
    )
    common = ["tp_common"] + (["tp_common_s16"] if s16 else [])
    if any((runtime / f"{s}_mve.c").exists() for s in sources):
        common.append("tp_mve")  # Helium kernels, compiled only for cores with MVE
    for stem in common + sources:
        for ext in (".h", ".c", "_mve.c", "_thumb1.h", "_thumb1.c"):
            f = runtime / f"{stem}{ext}"
            if f.exists():
                files[f.name] = f.read_text()
    bound = max_recompute if inplace else 0.0  # patches need the in-place plan
    return CModel(
        name,
        graph,
        lowered,
        plan,
        files,
        weight_bytes,
        sources,
        patching,
        bound,
        kernels,
        dense,
        depthwise,
        convs,
        order,
        choice,
        const_bytes,
        frozenset(em.weights),
    )


def _consts(name: str, graph: Graph, op: Operator, low: Lowered) -> list[dict]:
    """The op-local constant arrays of a layer, for the template; `alt` is the body of the
    convolution weights' Thumb-1 order and records (thumb1.py), None for other arrays."""
    out = []
    for cname, arr in low.consts.items():
        arr = np.asarray(arr)
        alt = None
        if op.opcode == "CONV_2D" and cname in ("filter16", "pointwise"):
            shape = graph.tensors[op.inputs[1]].shape  # output_c, kh, kw, input_c
            if cname == "filter16":
                alt = thumb1_filter16(arr, shape[0])
            else:  # per 4 output channels: 4 bias words, 2 per tap, 12 requantization words
                taps = (arr.size // (shape[0] // 4) - 16) // 2
                alt = thumb1_pointwise_blob(arr, taps).astype(arr.dtype)
        elif op.opcode == "DEPTHWISE_CONV_2D" and cname == "depthwise":
            channels = graph.tensors[op.inputs[1]].shape[3]  # 1, kh, kw, channels
            small = thumb1_depthwise_blob(arr, (arr.size // (channels // 4) - 16) // 2)
            alt = None if small is None else small.astype(arr.dtype)
        out.append(
            {
                "ctype": _CTYPES[arr.dtype.name],
                "name": f"{name}_op{op.index}_{cname}",
                "count": max(arr.size, 1),
                "body": _format_array(arr) if arr.size else "0",
                "alt": None if alt is None else _format_array(alt),
                "alt_guard": THUMB1_GUARD,
            }
        )
    return out


def _plan(
    graph: Graph, lowered: list[Lowered], inplace: bool, fuse: bool
) -> tuple[list[Lowered], MemoryPlan]:
    """In-place layers (and fused layer pairs and residual blocks if `fuse`) when `inplace`, with a single input
    kept in the arena when that needs fewer bytes than the arena plus a separate input buffer."""
    if not inplace:
        return lowered, plan_memory(graph, lowered)
    if fuse:
        lowered = fuse_rows(graph, lowered)
    apart = choose_inplace(graph, lowered)
    best = apart, plan_memory(graph, apart)
    if len(graph.inputs) == 1:
        inside = choose_inplace(graph, lowered, input_in_arena=True)
        plan = plan_memory(graph, inside, input_in_arena=True)
        if plan.arena_size < best[1].arena_size + graph.input_tensors[0].nbytes:
            best = inside, plan
    return best


def _input_offset(plan: MemoryPlan, graph: Graph) -> int | None:
    """Where the model's input lives in the arena, or None when it stays in the caller's buffer."""
    kind, value = plan.storage[graph.inputs[0]]
    return value if kind == "arena" and len(graph.inputs) == 1 else None


def _state_info(name: str, t: Tensor) -> dict:
    """A variable tensor: static memory holding its value from one call to the next, starting
    (and reset) where TFLM starts it: the zero point for int8, 0 otherwise."""
    start = t.zero_point if t.dtype == "int8" and t.quant is not None else 0
    return {
        "ctype": _CTYPES[t.dtype],
        "name": f"{name}_s{t.index}",
        "count": max(t.size, 1),
        "start": start,
        "bytes": t.nbytes,
        "comment": f"{c_comment_text(t.name)} {list(t.shape)}",
    }


def _np_of(ctype: str) -> str:
    return {v: k for k, v in _CTYPES.items()}[ctype]


def io_param(kind: str, k: int, count: int) -> str:
    """The C parameter of the k-th model input/output: `input`/`output` when it is the only
    one (the single-tensor API), else in0, in1, ... / out0, out1, ..."""
    if count == 1:
        return kind
    return f"{'in' if kind == 'input' else 'out'}{k}"


def _io_info(t: Tensor, kind: str, k: int, count: int) -> dict:
    return {
        "param": io_param(kind, k, count),
        "macro": kind.upper() if count == 1 else f"{kind.upper()}{k}",
        "label": c_comment_text(t.name),
        "ctype": _CTYPES[t.dtype],
        "shape": list(t.shape),
        "shape_c": ", ".join(str(d) for d in t.shape),
        "dims": len(t.shape),
        "bytes": t.nbytes,
        "elements": t.size,
        "scale": _c_float(t.scale) if t.quant is not None else "0.0f",
        "zero_point": t.zero_point if t.quant is not None else 0,
    }


def export_c(
    model: str | Path,
    out_dir: str | Path,
    name: str = "model",
    force: bool = False,
    max_recompute: float = DEFAULT_MAX_RECOMPUTE,
    flash_budget: int | None = None,
    strict_budget: bool = True,
    cpu: str | None = None,
    **library,
) -> ExportResult:
    """`tinypipe export --format c`: write the compiled model and its runtime into `out_dir`,
    with the manifests that make the folder a PlatformIO, CMake and Arduino library
    (`library` goes to `library.library_files`: version, url, author). `max_recompute` and
    `flash_budget` (default: none), `strict_budget` and `cpu` as generate_c takes them."""
    from .library import library_files

    out_dir = Path(out_dir)
    check_outdir(out_dir, force)
    cmodel = generate_c(
        read_tflite(model),
        name,
        max_recompute=max_recompute,
        flash_budget=flash_budget,
        strict_budget=strict_budget,
        cpu=cpu,
    )
    files = write_files(out_dir, {**cmodel.files, **library_files(cmodel, **library)}, force=force)
    return ExportResult(files, cmodel.arena_size, cmodel.weight_bytes, cmodel)
