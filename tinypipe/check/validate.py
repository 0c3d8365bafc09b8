"""Compare a compiled model's outputs with the TFLM oracle, and name the first divergent layer."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tinypipe.compiler import codegen
from tinypipe.compiler.codegen import CModel
from tinypipe.compiler.graph import Graph, read_tflite
from tinypipe.compiler.iolayout import Packing
from tinypipe.device.energy import Estimate, estimate, layer_estimates
from tinypipe.errors import TinypipeError

from .reference import quantize_input, run_tflm_all, run_tflm_tensors


@dataclass
class Divergence:
    op_index: int
    opcode: str
    tensor: str
    sample: int
    mismatches: int
    elements: int
    max_abs_diff: int


@dataclass
class Verdict:
    board: str
    samples: int
    elements: int
    mismatches: int
    max_abs_diff: float
    first_divergence: Divergence | None = None
    instructions: list[int] = field(default_factory=list)  # per inference, where measured
    extra: dict = field(default_factory=dict)

    @property
    def bit_exact(self) -> bool:
        return self.mismatches == 0 and self.samples > 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bit_exact"] = self.bit_exact
        return d

    def summary(self) -> str:
        lines = [
            f"board {self.board}: {self.samples} samples, {self.elements} output elements compared "
            f"with the TFLM interpreter",
        ]
        if self.bit_exact:
            lines.append("verdict: BIT-EXACT (0 mismatches)")
        else:
            lines.append(
                f"verdict: MISMATCH: {self.mismatches} elements differ, max |difference| {self.max_abs_diff:g}"
            )
            d = self.first_divergence
            if d is not None:
                lines.append(
                    f"first divergent layer: #{d.op_index} {d.opcode} (tensor '{d.tensor}', sample {d.sample}: "
                    f"{d.mismatches}/{d.elements} elements differ, max {d.max_abs_diff})"
                )
        build = self.extra.get("build")
        if build and build.get("flash_size"):
            lines.append(
                f"flash {build['flash_used']:,} / {build['flash_size']:,} B, "
                f"RAM {build['ram_used']:,} / {build['ram_size']:,} B"
                + (f" (incl. {build['stack']:,} B stack)" if build.get("stack") else "")
            )
        if self.instructions:
            lines.append(
                f"instructions per inference: {int(np.mean(self.instructions)):,} (mean), "
                f"{min(self.instructions):,}..{max(self.instructions):,}"
            )
            est = self.extra.get("estimate")
            if est:
                lines += Estimate(**est).lines()
        return "\n".join(lines)


def as_list(x) -> list[np.ndarray]:
    """One array per model input/output, whether given alone or as a list."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _single_or_list(arrays: list[np.ndarray]):
    """A model with one output keeps the plain-array API; several come back as a list."""
    return arrays[0] if len(arrays) == 1 else arrays


def load_inputs(path: str | Path, graph: Graph) -> list[np.ndarray]:
    """Load samples (first axis) for every model input and bring each to its tensor's dtype and
    shape: a .npy for a single-input model, or an .npz with one array per input, keyed by the
    input tensor's name or its index ("0", "1", ... or numpy.savez's "arr_0", ...).

    Float data for an int8 model is quantized with that input's scale and zero point.
    """
    path = Path(path)
    if not path.exists():
        raise TinypipeError(
            f"Inputs file '{path}' does not exist.",
            "Pass a .npy file whose first axis is samples (an .npz with one array per input "
            "for a model with several inputs).",
        )
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            arrays = {k: data[k] for k in data.files}
            data.close()
        else:
            arrays = None
    except Exception as exc:
        raise TinypipeError(
            f"'{path}' is not a readable .npy/.npz file ({type(exc).__name__}).",
            "Save the inputs with numpy.save() (numpy.savez() for several inputs); first axis = samples.",
        ) from None
    ins = graph.input_tensors
    if arrays is None:
        if len(ins) != 1:
            raise TinypipeError(
                f"The model has {len(ins)} inputs, but '{path}' is a single array.",
                "Save one array per input in an .npz keyed by input name or index: "
                + _input_keys(graph),
            )
        return [load_inputs_array(data, graph, where=f"'{path}'")]
    picked = []
    for k, t in enumerate(ins):
        keys = [t.name, str(k), f"arr_{k}"] + (list(arrays) if len(arrays) == len(ins) == 1 else [])
        found = next((key for key in keys if key in arrays), None)
        if found is None:
            raise TinypipeError(
                f"'{path}' has no array for model input {k} '{t.name}' "
                f"(it holds: {', '.join(sorted(arrays)) or 'nothing'}).",
                "Key the arrays by input name or index: " + _input_keys(graph),
            )
        picked.append(load_inputs_array(arrays[found], graph, f"'{path}' [{found}]", k))
    if len({len(a) for a in picked}) > 1:
        raise TinypipeError(
            f"The arrays in '{path}' hold different numbers of samples "
            f"({', '.join(str(len(a)) for a in picked)}).",
            "Give every input the same number of samples (first axis).",
        )
    return picked


def _input_keys(graph: Graph) -> str:
    return ", ".join(f"'{t.name}' or '{k}'" for k, t in enumerate(graph.input_tensors)) + "."


def load_inputs_array(
    x: np.ndarray, graph: Graph, where: str = "the inputs", index: int = 0
) -> np.ndarray:
    """Samples (first axis) -> model input `index`'s dtype and shape; floats are quantized."""
    t = graph.input_tensors[index]
    if x.dtype.kind not in "iuf":  # no strings, bools, complex, structured or datetime data
        raise TinypipeError(
            f"{where} holds {x.dtype} data, not numbers.",
            "Pass an integer array in the model's input type, or floats to be quantized.",
        )
    if x.dtype.kind == "f" and x.size and not np.isfinite(x).all():
        raise TinypipeError(
            f"{where} holds NaN or infinite values.", "Pass finite inputs (clean the data first)."
        )
    if x.ndim == 0 or x.size == 0:
        raise TinypipeError(f"{where} holds no samples.", "Save at least one input sample.")
    per_sample = t.size
    if x[0].size != per_sample:
        raise TinypipeError(
            f"Each sample in {where} has {x[0].size} values (array shape {list(x.shape)}), "
            f"but the model's input {list(t.shape)} needs {per_sample}.",
            "Reshape the inputs to (N, *input_shape) with the first axis as samples.",
        )
    if x.dtype.kind == "f" and t.dtype in ("int8", "int16"):
        x = quantize_input(x, t.scale, t.zero_point, np.dtype(t.dtype))
    elif x.dtype != np.dtype(t.dtype):
        if x.dtype.kind in "iu" and t.dtype == "int8" and (x.min() < -128 or x.max() > 127):
            raise TinypipeError(
                f"{where} holds integers outside int8 range.",
                "Pass int8 data, or floats to be quantized.",
            )
        x = x.astype(t.dtype)
    return x.reshape((x.shape[0], *t.shape))


def check_save_path(path: str | Path, graph: Graph) -> None:
    if len(graph.outputs) > 1 and Path(path).suffix != ".npz":
        raise TinypipeError(
            f"The model has {len(graph.outputs)} outputs; --save-outputs '{path}' must be an .npz.",
            "Name the file with .npz: it gets one array per output, keyed by output name.",
        )


def save_outputs(path: str | Path, graph: Graph, outputs) -> None:
    """A single output as .npy; several as an .npz keyed by output tensor name."""
    check_save_path(path, graph)
    outs = as_list(outputs)
    if len(outs) == 1:
        np.save(path, outs[0])
    else:
        np.savez(path, **{t.name: o for t, o in zip(graph.output_tensors, outs)})


def compare(outputs: np.ndarray, expected: np.ndarray) -> tuple[int, int, float]:
    """(elements, mismatches, max |difference|) between two same-shaped arrays."""
    a = outputs.astype(np.float64).ravel()
    b = expected.astype(np.float64).ravel()
    if a.shape != b.shape:
        raise RuntimeError(f"output size {a.size} differs from the oracle's {b.size}")
    diff = np.abs(a - b)
    return int(a.size), int(np.count_nonzero(diff)), float(diff.max()) if diff.size else 0.0


def first_divergence(
    graph: Graph, traces: list[tuple[int, bytes]], x: list[np.ndarray], sample: int
) -> Divergence | None:
    """Walk layer outputs in execution order and return the first that differs from TFLM's."""
    wanted = [graph.operators[k].outputs[0] for k, _ in traces]
    ref = run_tflm_tensors(graph.model_bytes, x, wanted)
    for (k, data), t_index in zip(traces, wanted):
        t = graph.tensors[t_index]
        ours = np.frombuffer(data, dtype=t.dtype)
        theirs = ref[t_index].astype(t.dtype).ravel()
        n, bad, mx = compare(ours, theirs)
        if bad:
            op = graph.operators[k]
            return Divergence(k, op.opcode, t.name, sample, bad, n, int(mx))
    return None


def outputs_from_raw(raw: np.ndarray, graph: Graph) -> list[np.ndarray]:
    """Raw output blocks (N, packed bytes) -> per model output (N, *output_shape), typed."""
    return Packing.of(graph.output_tensors).unpack(raw)


def validate_outputs(
    graph: Graph, inputs: list[np.ndarray], outputs: list[np.ndarray], board: str, trace_fn=None
) -> Verdict:
    """Judge `outputs` (one (N, *output_shape) array per model output) against TFLM;
    `trace_fn(sample) -> traces` is called for the first mismatching sample to locate the
    divergent layer."""
    expected = run_tflm_all(graph.model_bytes, inputs)
    n_samples = len(inputs[0])
    n = bad = 0
    mx = 0.0
    wrong = np.zeros(n_samples, dtype=bool)
    for ours, theirs in zip(outputs, expected):
        ne, nb, m = compare(ours, theirs)
        n, bad, mx = n + ne, bad + nb, max(mx, m)
        wrong |= (theirs.reshape(n_samples, -1) != ours.reshape(n_samples, -1)).any(axis=1)
    verdict = Verdict(board, n_samples, n, bad, mx)
    if bad and trace_fn is not None:
        sample = int(np.flatnonzero(wrong)[0])
        verdict.first_divergence = first_divergence(
            graph, trace_fn(sample), [x[sample] for x in inputs], sample
        )
    return verdict


def validate_host(
    model: str | Path | bytes | Graph,
    inputs,
    name: str = "model",
    sanitize: bool = False,
    cmodel: CModel | None = None,
    flash_budget: int | None = None,
):
    """Compile the model for this machine, run every input, and compare with TFLM bit for bit.

    `inputs`: samples (first axis) of the model's input, or a list with one array per input.
    `flash_budget` as codegen.generate_c takes it.
    Returns (verdict, outputs): outputs as one array, or a list for a model with several."""
    from tinypipe.device.hostrun import build_host, run_host

    graph = model if isinstance(model, Graph) else read_tflite(model)
    inputs = as_list(inputs)
    cmodel = cmodel or codegen.generate_c(graph, name, flash_budget=flash_budget)
    with tempfile.TemporaryDirectory(prefix="tinypipe-host-") as tmp:
        tmp = Path(tmp)
        binary = build_host(cmodel, tmp / "build", sanitize=sanitize)
        raw, _ = run_host(binary, inputs, tmp)
        outputs = outputs_from_raw(raw, graph)

        def trace_fn(sample: int):
            traced = build_host(cmodel, tmp / "trace", trace=True)
            _, records = run_host(traced, [x[sample : sample + 1] for x in inputs], tmp)
            return records

        verdict = validate_outputs(graph, inputs, outputs, "host", trace_fn)
    verdict.extra.update({"arena_bytes": cmodel.arena_size, "weight_bytes": cmodel.weight_bytes})
    return verdict, _single_or_list(outputs)


def refuse_budget_for_project(project: Path, flash_budget: int | None) -> None:
    """A firmware project's C is compiled already: a flash budget for it is an error."""
    if flash_budget is not None:
        raise TinypipeError(
            f"'{project}' is a firmware project: its C is compiled already, so a flash budget "
            "does not apply.",
            "Drop --flash-budget, or give it to `tinypipe firmware` when making the project.",
        )


def validate_target(
    target: str | Path,
    board: str,
    inputs_path: str | Path,
    sanitize: bool = False,
    save_to: str | Path | None = None,
    flash_budget: int | None = None,
):
    """`tinypipe validate`: TARGET is a .tflite, or a firmware project folder made by tinypipe.
    With `save_to`, the device outputs are written there (`save_outputs`). `flash_budget`
    (a .tflite TARGET) as codegen.generate_c takes it; default: the board's flash."""
    target = Path(target)
    project = None
    if target.is_dir():
        from tinypipe.device.firmware import project_model

        refuse_budget_for_project(target, flash_budget)
        project, model_path = target, project_model(target)
    else:
        model_path = target
    graph = read_tflite(model_path)
    if save_to is not None:
        check_save_path(save_to, graph)  # before the run, not after it
    x = load_inputs(inputs_path, graph)
    if board == "host" and project is None:
        verdict, outputs = validate_host(graph, x, sanitize=sanitize, flash_budget=flash_budget)
    else:
        verdict, outputs = validate_on_board(graph, x, board, project, flash_budget=flash_budget)
    if save_to is not None:
        save_outputs(save_to, graph, outputs)
    return verdict, outputs


def validate_on_board(
    graph: Graph,
    x,
    board: str,
    project: str | Path | None = None,
    name: str = "model",
    flash_budget: int | None = None,
):
    """Build the firmware for `board` (in `project`, or in a temporary project, compiled under
    `flash_budget`, by default the board's flash), stream every input through the device link,
    and compare with TFLM. A mismatch is located layer by layer with a traced host build of the
    same generated C."""
    from tinypipe.device.boards import get_board
    from tinypipe.device.firmware import (
        budget_options,
        build_project,
        create_project,
        project_envs,
    )
    from tinypipe.device.hostrun import build_host, run_host
    from tinypipe.device.runners import LinkError, infer_packed, open_runner

    x = as_list(x)
    budget = budget_options([get_board(board)], flash_budget)  # unknown board: a clear error
    with tempfile.TemporaryDirectory(prefix="tinypipe-board-") as tmp:
        tmp = Path(tmp)
        if project is None:
            model_path = tmp / "model.tflite"
            model_path.write_bytes(graph.model_bytes)
            project = tmp / "firmware"
            create_project(model_path, [board], project, name=name, flash_budget=flash_budget)
        elif board not in project_envs(project):
            raise TinypipeError(
                f"The firmware project '{project}' has no env for board '{board}' "
                f"(it has: {', '.join(project_envs(project))}).",
                f"Recreate it with `tinypipe firmware MODEL --board {board} ...`, or pick one of its boards.",
            )
        built = build_project(project, board)
        with open_runner(project, board) as runner:
            raw, counts = infer_packed(runner, Packing.of(graph.input_tensors).pack(x))
            unit = runner.count_unit
            try:  # the last inference per operator; None for a project made before profiling
                layer_counts = runner.profile()
            except LinkError:
                layer_counts = None
        outputs = outputs_from_raw(raw, graph)

        def trace_fn(sample: int):
            cmodel = codegen.generate_c(graph, name, **budget)
            traced = build_host(cmodel, tmp / "trace", trace=True)
            return run_host(traced, [a[sample : sample + 1] for a in x], tmp)[1]

        verdict = validate_outputs(graph, x, outputs, board, trace_fn)
    estimates = {}
    if unit == "instructions":
        verdict.instructions = [int(c) for c in counts]
        b = get_board(board)
        est = estimate(b, float(np.mean(counts)))
        if est is not None:
            estimates = {
                "estimate": est.to_dict(),
                "layer_estimates": layer_estimates(b, layer_counts) if layer_counts else None,
            }
    verdict.extra.update(
        {
            "count_unit": unit,
            "counts": [int(c) for c in counts],
            "layer_counts": layer_counts,  # last inference per op, in count_unit; None: no call
            "build": built.to_dict(),
            **estimates,
        }
    )
    return verdict, _single_or_list(outputs)


@dataclass
class CycleReport:
    """`tinypipe cycles`: one inference's modelled cycles next to the firmware's own count."""

    board: str
    firmware_instructions: int  # the firmware's counter under QEMU -icount
    traced_instructions: int  # the instructions in the trace window the model replays
    cycles: int
    by_class: dict[str, int]
    unmodelled: dict[str, int]
    basis: str
    estimate: Estimate
    # per profile call in call order (what ran since the previous call): op, the operator whose
    # call ends the row (None when the trace's calls could not be matched to the firmware's own
    # per-operator counts), its opcode, instructions traced and counted by the firmware,
    # modelled cycles, and ms / µJ on those cycles
    layers: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["estimate"] = self.estimate.to_dict()
        return d

    def summary(self) -> str:
        cpi = self.cycles / self.traced_instructions
        lines = [
            f"{self.board}: {self.cycles:,} cycles (modelled) for {self.traced_instructions:,} "
            f"instructions traced ({cpi:.3f} cycles per instruction); the firmware counted "
            f"{self.firmware_instructions:,} instructions",
            "cycles by class: "
            + ", ".join(
                f"{k} {v:,}" for k, v in sorted(self.by_class.items(), key=lambda kv: -kv[1])
            ),
        ]
        if self.unmodelled:
            lines.append(
                "not in the TRM tables used, 1 cycle each: "
                + ", ".join(f"{k} x{v:,}" for k, v in sorted(self.unmodelled.items()))
            )
        lines += self.estimate.lines()
        if self.layers:
            lines.append(
                "per layer, modelled (a row: what ran since the row before, up to the end of the "
                "operator named; operators with no profile call of their own fall in the next row):"
            )
            for r in self.layers:
                op = "?" if r["op"] is None else f"to op {r['op']} {r['opcode']}"
                uj = "-" if r["energy_uj"] is None else f"{r['energy_uj']:,.3f} µJ"
                lines.append(
                    f"  {op:<24} {r['instructions']:>12,} instr {r['cycles']:>12,} cycles "
                    f"({r['cycles'] / r['instructions']:.2f}) {r['time_ms']:>10,.4f} ms {uj:>14}"
                )
        return "\n".join(lines)


def cycles_on_board(
    target: str | Path,
    board: str,
    inputs_path: str | Path | None = None,
    flash_budget: int | None = None,
) -> CycleReport:
    """Model the cycles of one inference of TARGET (a .tflite, or a firmware project folder) on a
    Cortex-M3/M4 board: build the firmware (a .tflite under `flash_budget`, by default the
    board's flash), run the first sample (or a seeded random one) under QEMU with block
    tracing, replay the trace through the core's TRM timings."""
    from tinypipe.device.boards import get_board
    from tinypipe.device.cycles import basis, timing_for, trace_inference
    from tinypipe.device.firmware import build_project, create_project, project_model

    b = get_board(board)
    timing = timing_for(b.cpu)
    if timing is None or not b.emulated:
        raise TinypipeError(
            f"No cycle model for {board} ({b.cpu}).",
            "Cycle models exist for the Cortex-M3 and Cortex-M4 boards under QEMU: mps2-an385, "
            "mps2-an386, netduinoplus2.",
        )
    target = Path(target)
    project = target if target.is_dir() else None
    if project is not None:
        refuse_budget_for_project(project, flash_budget)
    graph = read_tflite(project_model(project) if project else target)
    if inputs_path is not None:
        x = [a[:1] for a in load_inputs(inputs_path, graph)]
    else:
        rng = np.random.default_rng(0)
        x = [
            rng.integers(
                np.iinfo(t.dtype).min, np.iinfo(t.dtype).max + 1, (1, *t.shape[1:]), dtype=t.dtype
            )
            if np.issubdtype(np.dtype(t.dtype), np.integer)
            else rng.standard_normal((1, *t.shape[1:])).astype(t.dtype)
            for t in graph.input_tensors
        ]
    sample = Packing.of(graph.input_tensors).pack(x)[0].tobytes()
    with tempfile.TemporaryDirectory(prefix="tinypipe-cycles-") as tmp:
        if project is None:
            model_path = Path(tmp) / "model.tflite"
            model_path.write_bytes(graph.model_bytes)
            project = Path(tmp) / "firmware"
            create_project(model_path, [board], project, name="model", flash_budget=flash_budget)
        built = build_project(project, board)
        count, firmware_count, layer_counts = trace_inference(b, built.program, sample)
    why = basis(timing)
    layers = []
    for op, n, c in count.layers:
        known = op is not None and 0 <= op < len(graph.operators)
        e = estimate(b, n, cycles=c, cycles_basis=why)
        layers.append(
            {
                "op": op if known else None,
                "opcode": graph.operators[op].opcode if known else None,
                "instructions": n,
                "firmware_instructions": layer_counts[op]
                if known and layer_counts and op < len(layer_counts)
                else None,
                "cycles": c,
                "time_ms": e.time_ms,
                "energy_uj": e.energy_uj,
            }
        )

    def agrees(r: dict) -> bool:  # the firmware's counter ticks every few dozen instructions
        fw = r["firmware_instructions"]
        return fw is not None and abs(r["instructions"] - fw) <= max(100, 0.02 * r["instructions"])

    if not all(agrees(r) for r in layers):  # calls not matched to operators: unnamed rows
        for r in layers:
            r["op"] = r["opcode"] = None
    return CycleReport(
        board=board,
        firmware_instructions=int(firmware_count),
        traced_instructions=count.instructions,
        cycles=count.cycles,
        by_class=dict(count.by_class),
        unmodelled=dict(count.unmodelled),
        basis=why,
        estimate=estimate(b, count.instructions, cycles=count.cycles, cycles_basis=why),
        layers=layers,
    )
