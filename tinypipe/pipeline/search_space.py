"""The search space of `tinypipe search`: zoo families, their knobs and the optimize steps.

    [search.models.tiny_cnn]        # a zoo family, and the values each of its knobs may take
    width = [0.5, 1.0, 2.0]
    blocks = [1, 2]
    input_size = [8, 16]            # inputs resampled to 16x16 (images) or 16 steps (windows)
    [search.optimize]
    prune = [0.0, 0.5]              # the `tinypipe optimize` steps after training
    cluster = [0, 16]
    qat = [false, true]

A candidate is one choice per knob; the space is every combination, in a fixed order. A
candidate's id hashes its choices with everything else that decides its result (data, training
settings, board, tinypipe's code), so a resumed search recognises the trials it already ran.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field

import numpy as np

from tinypipe.errors import TinypipeError

DATA_KNOBS = ("input_size",)  # knobs that change the data rather than the builder
OPTIMIZE_KNOBS = {"prune": (0.0,), "cluster": (0,), "qat": (False,)}


@dataclass(frozen=True)
class Candidate:
    """One point of the space: a zoo family with its knobs, an input size, optimize steps."""

    model: str
    knobs: dict = field(default_factory=dict)  # architecture knobs (zoo.ModelInfo.knobs)
    input_size: int = 0  # 0: the data's own size
    prune: float = 0.0
    cluster: int = 0
    qat: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Candidate:
        return cls(**d)

    def trial_id(self, context: dict) -> str:
        """12 hex digits naming this candidate's trial under `context` (what else decides it)."""
        blob = json.dumps([self.as_dict(), context], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def label(self) -> str:
        """Short text for tables and logs, e.g. `tiny_cnn width=0.5 in=16 prune=0.5 cluster=16`."""
        parts = [self.model] + [f"{k}={v:g}" for k, v in sorted(self.knobs.items())]
        if self.input_size:
            parts.append(f"in={self.input_size}")
        if self.prune:
            parts.append(f"prune={self.prune:g}")
        if self.cluster:
            parts.append(f"cluster={self.cluster}")
        if self.qat:
            parts.append("qat")
        return " ".join(parts)

    @property
    def optimizing(self) -> bool:
        return bool(self.prune or self.cluster or self.qat)


def _choices(where: str, key: str, value) -> list:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise TinypipeError(
            f"{where} {key} = [] has no values.", f"Give at least one, e.g. {key} = [1]."
        )
    return values


def parse_space(search: dict, default_model: str) -> list[Candidate]:
    """Every candidate of the [search] section, checked (knob names, types, ranges)."""
    from tinypipe.model.optimize import OptimizeOptions
    from tinypipe.model.zoo import check_knobs, model_info

    models = search.get("models") or {default_model: {}}
    optimize = search.get("optimize") or {}
    unknown = sorted(set(optimize) - set(OPTIMIZE_KNOBS))
    if unknown:
        raise TinypipeError(
            f"[search.optimize] has unknown key(s) {', '.join(unknown)}.",
            f"Valid keys: {', '.join(OPTIMIZE_KNOBS)} (each a list of values).",
        )
    steps = {
        k: _choices("[search.optimize]", k, optimize.get(k, list(d)))
        for k, d in OPTIMIZE_KNOBS.items()
    }
    for prune, cluster, qat in itertools.product(*steps.values()):
        if not isinstance(qat, bool) or isinstance(cluster, bool) or not isinstance(cluster, int):
            raise TinypipeError(
                f"[search.optimize] values must be prune = [fractions], cluster = [integers], "
                f"qat = [true/false]; got prune {prune!r}, cluster {cluster!r}, qat {qat!r}.",
                "Write e.g. prune = [0.0, 0.5], cluster = [0, 16], qat = [false, true].",
            )
        if isinstance(prune, bool) or not isinstance(prune, (int, float)):
            raise TinypipeError(
                f"[search.optimize] prune = {prune!r} is not a number.",
                "Use fractions, e.g. prune = [0.0, 0.5].",
            )
        OptimizeOptions(prune=float(prune), cluster=cluster, qat=qat).check()

    out: list[Candidate] = []
    for family in models:
        knobs = models[family]
        info = model_info(family)  # unknown family -> the list of zoo models
        if info.task != "classification":
            raise TinypipeError(
                f"[search.models.{family}]: the search ranks classifiers by accuracy; "
                f"'{family}' is an {info.task}.",
                "Search over classifier families (tiny_cnn, conv1d, mlp, ds_cnn, ...).",
            )
        if not isinstance(knobs, dict):
            raise TinypipeError(
                f"[search.models] {family} must be a table of knobs.",
                f"Write [search.models.{family}] with lines such as width = [0.5, 1.0].",
            )
        bad = sorted(set(knobs) - set(info.knobs) - set(DATA_KNOBS))
        if bad:
            raise TinypipeError(
                f"[search.models.{family}] has unknown knob(s) {', '.join(bad)}.",
                f"Knobs of {family}: {', '.join(info.knobs + DATA_KNOBS)}.",
            )
        names = sorted(knobs)
        grids = [_choices(f"[search.models.{family}]", k, knobs[k]) for k in names]
        for combo in itertools.product(*grids):
            chosen = dict(zip(names, combo))
            size = chosen.pop("input_size", 0)
            if (
                isinstance(size, bool)
                or not isinstance(size, int)
                or size < 1
                and "input_size" in knobs
            ):
                raise TinypipeError(
                    f"[search.models.{family}] input_size = {size!r} is not a positive integer.",
                    "Use sizes in pixels (images) or time steps (windows), e.g. input_size = [8, 16].",
                )
            chosen = check_knobs(family, chosen)
            for prune, cluster, qat in itertools.product(*steps.values()):
                out.append(Candidate(family, chosen, size, float(prune), int(cluster), bool(qat)))
    return out


def draw(candidates: list[Candidate], trials: int, seed: int) -> list[Candidate]:
    """`trials` candidates picked at random (same seed, same pick), in the space's order; all
    of them when `trials` is 0 or covers the space."""
    if not trials or trials >= len(candidates):
        return list(candidates)
    picked = np.random.default_rng(seed).choice(len(candidates), size=trials, replace=False)
    return [candidates[i] for i in sorted(picked)]
