"""The host build's object cache (TINYPIPE_OBJECT_CACHE): reused only for identical inputs."""

from __future__ import annotations

import numpy as np
from op_cases import random_int8_inputs

from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.device.hostrun import OBJECT_CACHE_ENV, _object_key, build_host, run_host


def test_cached_build_runs_like_a_fresh_one(digits_tflite, tmp_path, monkeypatch):
    graph = read_tflite(digits_tflite)
    cmodel = generate_c(graph)
    x = random_int8_inputs(graph, seed=3, samples=8)
    monkeypatch.delenv(OBJECT_CACHE_ENV)
    fresh, _ = run_host(build_host(cmodel, tmp_path / "fresh"), x, tmp_path / "fresh")

    cache = tmp_path / "objects"
    monkeypatch.setenv(OBJECT_CACHE_ENV, str(cache))
    first, _ = run_host(build_host(cmodel, tmp_path / "a"), x, tmp_path / "a")
    stored = sorted(cache.iterdir())
    # every runtime kernel and the model itself; the batch main includes a computed header
    assert len(stored) == len([n for n in cmodel.files if n.endswith(".c")])
    second, _ = run_host(build_host(cmodel, tmp_path / "b"), x, tmp_path / "b")
    assert sorted(cache.iterdir()) == stored  # the second build compiled nothing new
    np.testing.assert_array_equal(first, fresh)
    np.testing.assert_array_equal(second, fresh)


def test_key_follows_flags_sources_and_included_headers(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "k.c").write_text('#include <stdint.h>\n#include "k.h"\nint k(void) { return K; }\n')
    (src / "k.h").write_text('#include "deep.h"\n')
    (src / "deep.h").write_text("#define K 1\n")
    flags = ["cc", "-O2", f"-I{src}"]
    key = _object_key(flags, src / "k.c")
    assert key is not None
    # include directories count by what they hold, not where they are
    moved = tmp_path / "elsewhere"
    src.rename(moved)
    assert _object_key(["cc", "-O2", f"-I{moved}"], moved / "k.c") == key
    assert _object_key(["cc", "-O0", f"-I{moved}"], moved / "k.c") != key
    (moved / "deep.h").write_text("#define K 2\n")
    assert _object_key(["cc", "-O2", f"-I{moved}"], moved / "k.c") != key
    # a computed or missing include cannot be followed: compiled without the cache
    (moved / "m.c").write_text("#include MODEL_HEADER\n")
    assert _object_key(["cc", "-O2", f"-I{moved}"], moved / "m.c") is None
    (moved / "n.c").write_text('#include "absent.h"\n')
    assert _object_key(["cc", "-O2", f"-I{moved}"], moved / "n.c") is None
