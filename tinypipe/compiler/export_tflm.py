"""`tinypipe export --format tflm`: the model as a C array for the TFLM interpreter, an op
resolver holding exactly the model's ops, and the exact arena size measured with TFLM itself."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import jinja2

from tinypipe.check.reference import smallest_tflm_arena
from tinypipe.errors import TinypipeError
from tinypipe.outdir import check_outdir, write_files
from tinypipe.resources import templates_dir

from .ctext import c_comment_text, check_c_name
from .custom_ops import TFLM_CUSTOM_OPS, vela_refusal
from .graph import Graph, read_tflite

# TFLM's MicroMutableOpResolver method names that do not follow the plain CamelCase rule.
_RESOLVER_EXCEPTIONS = {
    "BATCH_MATMUL": "BatchMatMul",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTM",
    "SVDF": "Svdf",
}


def resolver_method(opcode: str) -> str:
    """CONV_2D -> AddConv2D, DEPTHWISE_CONV_2D -> AddDepthwiseConv2D, RELU6 -> AddRelu6."""
    if opcode in _RESOLVER_EXCEPTIONS:
        return "Add" + _RESOLVER_EXCEPTIONS[opcode]
    parts = opcode.split("_")
    return "Add" + "".join(p if p[:1].isdigit() else p[:1] + p[1:].lower() for p in parts)


@dataclass
class TflmExport:
    files: list[str]
    arena_size: int  # exact, without the margin
    arena_margin: int
    ops: list[str]


def _byte_rows(data: bytes, per_line: int = 16) -> str:
    rows = []
    for i in range(0, len(data), per_line):
        rows.append(", ".join(f"0x{b:02x}" for b in data[i : i + per_line]))
    return ",\n    ".join(rows)


def check_tflm_ops(graph: Graph) -> None:
    """Refuse what TFLM's resolver cannot register: custom ops other than TFLM's own (the
    Signal library and friends), and Vela's NPU op."""
    vela = vela_refusal(graph)
    if vela is not None:
        raise vela
    for op in graph.operators:
        if op.opcode.startswith("CUSTOM:") and op.opcode[7:] not in TFLM_CUSTOM_OPS:
            raise TinypipeError(
                f"Operator #{op.index} is the custom op '{c_comment_text(op.opcode[7:])}', which "
                "TFLM's op resolver does not have (it has the Signal library ops: "
                f"{', '.join(TFLM_CUSTOM_OPS)}).",
                "Register your own kernel for it by hand, or rebuild the model from built-in ops.",
            )


def tflm_status(graph: Graph) -> str | None:
    """None when the TFLM backend takes the model (TFLM's resolver registers every op and the
    interpreter loads it), else why not: what `inspect` reports and `export` refuses with."""
    from tinypipe.check.reference import in_child

    try:
        check_tflm_ops(graph)
    except TinypipeError as exc:
        return exc.message
    # In a child process: TFLM aborts on some models it does not check, and inspect must live.
    answer = in_child(_tflm_loads, graph.model_bytes)
    if answer[0] == "ok":
        return None
    if answer[0] == "signal":
        return f"the TFLM interpreter crashes ({answer[1]}) loading the model"
    return f"the TFLM interpreter cannot load the model: {answer[2][:200]}"


def _tflm_loads(model: bytes) -> None:
    from tinypipe.check.reference import tflm_interpreter

    tflm_interpreter(model, max(len(model) * 10, 1 << 22))


def _resolver_entry(opcode: str) -> dict[str, str]:
    if opcode.startswith("CUSTOM:"):
        return {"opcode": c_comment_text(opcode), "method": TFLM_CUSTOM_OPS[opcode[7:]]}
    return {"opcode": c_comment_text(opcode), "method": resolver_method(opcode)}


def render_tflm(graph: Graph, name: str, arena_size: int, arena_margin: int = 0) -> dict[str, str]:
    check_tflm_ops(graph)
    ops = graph.distinct_ops()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "tflm")),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    ctx = {
        "name": name,
        "NAME": name.upper(),
        "data": _byte_rows(graph.model_bytes),
        "length": len(graph.model_bytes),
        "sha256": hashlib.sha256(graph.model_bytes).hexdigest(),
        "source": c_comment_text(Path(graph.source.strip("'")).name) if graph.source else "",
        "ops": [_resolver_entry(op) for op in ops],
        "arena_exact": arena_size,
        "arena_margin": arena_margin,
    }
    return {
        f"{name}_model_data.h": env.get_template("model_data.h.j2").render(ctx),
        f"{name}_model_data.cc": env.get_template("model_data.cc.j2").render(ctx),
        f"{name}_op_resolver.h": env.get_template("op_resolver.h.j2").render(ctx),
    }


def export_tflm(
    model: str | Path,
    out_dir: str | Path,
    name: str = "model",
    arena_margin: int = 0,
    force: bool = False,
) -> TflmExport:
    check_c_name(name)
    out_dir = Path(out_dir)
    check_outdir(out_dir, force)
    graph = read_tflite(model)
    check_tflm_ops(graph)  # before the arena search, which cannot load such a model
    arena = smallest_tflm_arena(graph.model_bytes)
    files = render_tflm(graph, name, arena, arena_margin)
    written = write_files(out_dir, files, force=force)
    return TflmExport(written, arena, arena_margin, graph.distinct_ops())
