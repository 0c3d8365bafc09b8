"""How a model's inputs (or outputs) travel as one byte block: the form the batch runner's files,
the firmware link's `I`/`O` lines and `<name>_invoke_packed()` share.

Tensors follow one another in the model's order, each starting at a multiple of ALIGN bytes so
the C side can point into the block with the tensor's own type; padding bytes are zero. A model
with one input and one output packs to exactly that tensor's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .graph import Tensor

ALIGN = 4


@dataclass(frozen=True)
class Packing:
    tensors: tuple[Tensor, ...]
    offsets: tuple[int, ...]
    nbytes: int  # the whole block

    @classmethod
    def of(cls, tensors: list[Tensor]) -> Packing:
        offsets, pos = [], 0
        for t in tensors:
            pos = (pos + ALIGN - 1) // ALIGN * ALIGN
            offsets.append(pos)
            pos += t.nbytes
        return cls(tuple(tensors), tuple(offsets), pos)

    def pack(self, arrays: list[np.ndarray]) -> np.ndarray:
        """Per-tensor samples [(N, *shape_k)] -> blocks (N, nbytes) of uint8."""
        n = len(arrays[0]) if arrays else 0
        out = np.zeros((n, self.nbytes), dtype=np.uint8)
        for t, off, a in zip(self.tensors, self.offsets, arrays):
            a = np.ascontiguousarray(a, dtype=t.dtype).reshape(n, -1)
            out[:, off : off + t.nbytes] = a.view(np.uint8).reshape(n, t.nbytes)
        return out

    def unpack(self, raw: np.ndarray) -> list[np.ndarray]:
        """Blocks (N, nbytes) -> per-tensor arrays [(N, *shape_k)] in each tensor's dtype."""
        raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1, self.nbytes)
        return [
            np.ascontiguousarray(raw[:, off : off + t.nbytes])
            .view(t.dtype)
            .reshape((len(raw), *t.shape))
            for t, off in zip(self.tensors, self.offsets)
        ]
