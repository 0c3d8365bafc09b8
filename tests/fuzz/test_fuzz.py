"""tinypipe's own fuzzing, a short fixed-seed run in CI (scripts/fuzz.sh runs long campaigns).

Every crafted or mutated model is either refused with a TinypipeError and no folder, or accepted
and bit-exact with TFLM under ASan+UBSan; and every model of the corpus (each broke tinypipe
once: a traceback, a signal, a failed compile or outputs differing from TFLM) now ends cleanly."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import tp_fuzz

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def cache():
    with tempfile.TemporaryDirectory(prefix="tpfuzz-cache-") as d:
        yield tp_fuzz._Cache(Path(d))


@pytest.mark.parametrize("seed_model", tp_fuzz.SEED_MODELS, ids=lambda f: f.__name__)
def test_seed_models_are_accepted_and_exact(seed_model, cache) -> None:
    """The fuzzer's starting points are valid: tinypipe compiles them bit-exact with TFLM."""
    assert tp_fuzz.run_forked(seed_model(np.random.default_rng(0)), cache, 1)[0] == "exact"


@pytest.mark.parametrize("chunk", range(2))
def test_fixed_seed_campaign(chunk: int) -> None:
    """80 cases (every category, half byte-level mutations): no finding."""
    report = tp_fuzz.campaign(2026, 40, start=40 * chunk, log=lambda *_: None)
    assert report["totals"].get("refused", 0) > 0
    assert not report["findings"], report["findings"][:3]


def test_corpus_models_end_cleanly(cache) -> None:
    files = sorted(CORPUS.glob("*.tflite"))
    assert files, "the corpus is empty"
    bad = []
    for f in files:
        outcome, detail = tp_fuzz.run_forked(f.read_bytes(), cache, 5)
        if outcome not in tp_fuzz.GOOD:
            bad.append((f.name, outcome, detail[-300:]))
    assert not bad, bad
