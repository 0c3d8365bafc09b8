"""Model level: the digits CNN and the four MLPerf-Tiny-shaped models, compiled to C and run on
the host, must give exactly TFLM's int8 outputs on every element, with less RAM than TFLM."""

from __future__ import annotations

import numpy as np
import pytest

from tinypipe.check.reference import smallest_tflm_arena
from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.model.zoo import REFERENCE_MODELS

SAMPLES = 64


def _inputs(graph, n: int, seed: int) -> np.ndarray:
    shape = graph.input_tensors[0].shape
    return np.random.default_rng(seed).integers(-128, 128, size=(n, *shape), dtype=np.int8)


@pytest.mark.slow
@pytest.mark.parametrize("label", list(REFERENCE_MODELS))
def test_model_is_bit_exact_with_tflm(zoo_model, label):
    name, kw = REFERENCE_MODELS[label]
    graph = read_tflite(zoo_model(name, **kw))
    cmodel = generate_c(graph)
    verdict, outputs = validate_host(graph, _inputs(graph, SAMPLES, seed=11), cmodel=cmodel)
    assert verdict.samples == SAMPLES
    assert verdict.elements == SAMPLES * graph.output_tensors[0].size
    assert verdict.bit_exact, verdict.summary()
    # the outputs are not degenerate: different inputs give different outputs
    assert len({o.tobytes() for o in outputs}) > 1

    # RAM: tinypipe's arena plus the caller's input/output buffers vs TFLM's smallest arena
    tflm_arena = smallest_tflm_arena(graph.model_bytes)
    ours = cmodel.arena_size + cmodel.io_bytes
    assert ours < tflm_arena, f"{label}: tinypipe {ours} B vs TFLM {tflm_arena} B"


@pytest.mark.parametrize("label", ["digits_cnn", "fc_autoencoder"])
def test_generated_c_is_clean_under_sanitizers(zoo_model, label):
    name, kw = REFERENCE_MODELS[label]
    graph = read_tflite(zoo_model(name, **kw))
    verdict, _ = validate_host(graph, _inputs(graph, 8, seed=5), sanitize=True)
    assert verdict.bit_exact, verdict.summary()


def test_generation_is_deterministic(digits_tflite):
    a = generate_c(read_tflite(digits_tflite)).files
    b = generate_c(read_tflite(digits_tflite.read_bytes())).files
    assert a.keys() == b.keys()
    for name in a:
        if name.startswith("model."):
            # identical apart from the source file name, which bytes-only input does not have
            strip = [line for line in a[name].splitlines() if "compiled by tinypipe" not in line]
            assert strip == [line for line in b[name].splitlines() if "compiled by tinypipe" not in line]
        else:
            assert a[name] == b[name]
    assert generate_c(read_tflite(digits_tflite)).files == a


def test_int8_model_code_has_no_float_math_and_no_heap(digits_tflite):
    files = generate_c(read_tflite(digits_tflite)).files
    for name, text in files.items():
        if name.endswith(".c"):
            assert "malloc" not in text and "calloc" not in text, name
            code = "\n".join(line for line in text.splitlines() if not line.strip().startswith(("/*", "*")))
            assert "float" not in code and "double" not in code, name


@pytest.mark.parametrize("label", ["digits_cnn", "ds_cnn"])
def test_litert_without_delegates_agrees(zoo_model, label):
    """The second reference: LiteRT's builtin kernels (no XNNPACK) give the same bytes as TFLM
    and as tinypipe's compiled C."""
    from tinypipe.check.reference import run_litert, run_tflm

    name, kw = REFERENCE_MODELS[label]
    graph = read_tflite(zoo_model(name, **kw))
    x = _inputs(graph, 16, seed=2)
    litert = run_litert(graph.model_bytes, x)
    np.testing.assert_array_equal(litert, run_tflm(graph.model_bytes, x))
    _, ours = validate_host(graph, x)
    np.testing.assert_array_equal(ours, litert)
