"""`tinypipe mlperf`: drive MLPerf-protocol firmware like the benchmark runner and check every
result vector against the TFLM interpreter's output, dequantized and printed the same way."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tinypipe.compiler.graph import read_tflite
from tinypipe.device.firmware import build_project, project_model
from tinypipe.device.mlperf import check_protocol_project, expected_results, open_dut

from .reference import run_tflm
from .validate import load_inputs


@dataclass
class MlperfVerdict:
    board: str
    name: list[str]
    profile: list[str]
    samples: int = 0
    mismatched_samples: int = 0
    first_mismatch: dict | None = None
    lap_us: list[int] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.samples > 0 and self.mismatched_samples == 0

    def to_dict(self) -> dict:
        return {**asdict(self), "exact": self.exact}

    def summary(self) -> str:
        lines = [
            *self.name,
            *self.profile,
            f"board {self.board}: {self.samples} samples through the MLPerf Tiny protocol",
        ]
        if self.exact:
            lines.append("results: IDENTICAL to TFLM's output, dequantized to 3 decimals")
        else:
            lines.append(
                f"results: {self.mismatched_samples} samples differ from TFLM; first: {self.first_mismatch}"
            )
        return "\n".join(lines)


def validate_mlperf(
    project: str | Path, board: str, inputs: str | Path, port: str | None = None
) -> MlperfVerdict:
    """Build (when needed) and run `project`'s MLPerf firmware on `board` with every sample of
    `inputs`: db load, db HEX..., infer 1 0, results; compare with TFLM."""
    check_protocol_project(project)
    graph = read_tflite(project_model(project))
    (x,) = load_inputs(inputs, graph)
    ref = run_tflm(graph.model_bytes, x)
    out = graph.output_tensors[0]
    if port is None:
        build_project(project, board)
    with open_dut(project, board, port) as dut:
        verdict = MlperfVerdict(board, dut.command("name").lines, dut.command("profile").lines)
        for i in range(len(x)):
            dut.load(np.ascontiguousarray(x[i]).tobytes())
            got, lap = dut.infer(1, 0)
            want = expected_results(ref[i], out.scale, out.zero_point)
            verdict.samples += 1
            if lap is not None:
                verdict.lap_us.append(lap)
            if got != want:
                verdict.mismatched_samples += 1
                if verdict.first_mismatch is None:
                    verdict.first_mismatch = {"sample": i, "device": got, "tflm": want}
    return verdict
