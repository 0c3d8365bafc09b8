"""The memory plan checked at run time: host builds under ASan run every layer inside a
canary-guarded, poisoned arena (firmware/link/tp_arena_check.c) where it may touch only the bytes
the plan gives it and must leave every live tensor as it was. The MLPerf Tiny shapes with their
in-place layers pass bit-exact against TFLM; corrupted plans and tables are caught."""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import random_int8_inputs

from tinypipe.check.validate import validate_host
from tinypipe.compiler import codegen
from tinypipe.compiler.arena_regions import ACCESS, KEEP, WRITE, arena_regions
from tinypipe.compiler.graph import read_tflite
from tinypipe.model.zoo import REFERENCE_MODELS


def _covered(regions, flags: int) -> set[int]:
    return {b for off, size, f in regions if f & flags for b in range(off, off + size)}


@pytest.mark.parametrize(
    "label",
    ["ds_cnn", pytest.param("mobilenet_v1", marks=pytest.mark.slow), "resnet8", "fc_autoencoder"],
)
def test_mlperf_models_keep_to_their_plan_at_run_time(zoo_model, label: str) -> None:
    name, kw = REFERENCE_MODELS[label]
    g = read_tflite(zoo_model(name, **kw))
    cm = codegen.generate_c(g)
    # the plan and the lowering follow the order the layers run in (cm.graph), which the
    # operator-order search may have changed from the file's
    table = arena_regions(cm.graph, cm.lowered, cm.plan)
    calls = [op.index for op, low in zip(cm.graph.operators, cm.lowered) if low.emits_code]
    assert sorted(table) == calls
    for k, regions in table.items():
        # What a layer may touch plus what it must keep is what the plan counts live then, and
        # the plan's own proof says a layer never writes over a tensor it must keep.
        assert len(_covered(regions, ACCESS | KEEP)) <= cm.plan.live_bytes[k]
        assert not _covered(regions, WRITE) & _covered(regions, KEEP), k
    text = cm.files["model.c"]
    assert all(f"TP_ARENA_ENTER({cm.file_index(k)}, model_op{k}_regions);" in text for k in calls)
    if label != "fc_autoencoder":  # the convolutional ones compute layers over their input
        assert any(low.inplace_of is not None for low in cm.lowered)

    verdict, _ = validate_host(g, random_int8_inputs(g, 31, 4), sanitize=True, cmodel=cm)
    assert verdict.samples == 4
    assert verdict.bit_exact, verdict.summary()


def _run(cm, inputs, **build) -> str:
    """Run `cm` on the host with the arena check; the failure text ('' if it passed)."""
    import tempfile
    from pathlib import Path

    from tinypipe.device.hostrun import build_host, run_host

    with tempfile.TemporaryDirectory() as tmp:
        binary = build_host(cm, Path(tmp) / "b", arena_check=True, **build)
        try:
            run_host(binary, inputs, Path(tmp))
        except RuntimeError as exc:
            return str(exc)
    return ""


@pytest.fixture
def digits(digits_tflite):
    g = read_tflite(digits_tflite)
    return g, random_int8_inputs(g, 3, 2)


def test_a_plan_that_overlaps_live_tensors_fails_at_run_time(digits, monkeypatch) -> None:
    """Move a buffer onto another one live at the same time (as a planner bug would, past its
    own proof): a layer then overwrites a tensor a later layer still needs."""
    g, x = digits
    plan_memory = codegen.plan_memory

    def overlapping(graph, lowered, **kw):
        plan = plan_memory(graph, lowered, **kw)
        tensors = [b for b in plan.buffers if b.key.startswith("t")]
        a, b = next(
            (a, b) for a in tensors for b in tensors if a is not b and a.overlaps_in_time(b)
        )
        for t, (kind, off) in plan.storage.items():
            if kind == "arena" and off == b.offset:
                plan.storage[t] = ("arena", a.offset)
        b.offset = a.offset
        return plan

    monkeypatch.setattr(codegen, "plan_memory", overlapping)
    failure = _run(codegen.generate_c(g), x)
    assert "tp_arena_check: layer #" in failure
    assert "changed a live tensor it must keep" in failure


def _without_largest_write(graph, lowered, plan):
    """arena_regions, minus the largest range the first layer may write (its output)."""
    table = arena_regions(graph, lowered, plan)
    k = min(table)
    largest = max((r for r in table[k] if r[2] & WRITE), key=lambda r: r[1])
    table[k] = [r for r in table[k] if r != largest]
    return table


def test_a_write_outside_the_plan_fails_without_asan(digits, monkeypatch) -> None:
    """Without ASan the canary comparison alone catches a layer writing where its table does
    not allow: the first layer's output range is taken out of its table."""
    g, x = digits
    monkeypatch.setattr(codegen, "arena_regions", _without_largest_write)
    failure = _run(codegen.generate_c(g), x)
    assert "wrote outside its planned outputs and scratch" in failure


def test_a_read_outside_the_plan_fails_under_asan(digits, monkeypatch) -> None:
    """Under ASan every byte a layer may not access is poisoned: taking a read-only input out
    of a layer's table makes its first read an ASan report."""
    g, x = digits
    monkeypatch.setattr(codegen, "arena_regions", _input_not_accessible)
    failure = _run(codegen.generate_c(g), x, sanitize=True)
    assert "AddressSanitizer" in failure and "use-after-poison" in failure


def _input_not_accessible(graph, lowered, plan):
    """arena_regions where the first layer with a read-only arena input may no longer access
    it (it stays a live tensor to keep)."""
    table = arena_regions(graph, lowered, plan)
    k = next(k for k in sorted(table) if any(f & ACCESS and not f & WRITE for *_, f in table[k]))
    table[k] = [(o, n, KEEP if f & ACCESS and not f & WRITE else f) for o, n, f in table[k]]
    return table


def test_free_bytes_hold_canaries_between_layers(digits) -> None:
    """Free bytes get new canary values before every layer of every call, so a layer reading
    them would give different outputs for the same input: the outputs of a repeated batch
    are equal and TFLM's."""
    g, x = digits
    cm = codegen.generate_c(g)
    verdict, outs = validate_host(g, np.concatenate([x, x]), sanitize=True, cmodel=cm)
    assert verdict.bit_exact, verdict.summary()
    np.testing.assert_array_equal(outs[:2], outs[2:])
