"""Weight clustering to at most K int8 values per layer, for 4-bit packed weights in the C.

The int8 converter quantizes each output channel c of a Conv/Dense kernel symmetrically:
q = round(w / s_c) with s_c = max|w_c| / 127. Clustering is done in that integer domain:
every channel is normalised to u = 127 w / max|w_c|, one set of K integer levels is fitted to
all u of the layer by 1-D k-means (with -127 and +127 pinned, so each channel keeps its own
max|w_c| and therefore its scale), and each weight becomes max|w_c| * level / 127. After
conversion every channel then holds at most K distinct int8 values (the same K for the whole
layer, unless the converter folds a per-channel factor such as a batch norm into the kernel),
which the compiler stores as 4-bit indices plus a codebook (tinypipe.compiler.ops.packed).
"""

from __future__ import annotations

import numpy as np

_CLUSTERED = ("Conv1D", "Conv2D", "Dense")
MAX_LEVELS = 16


def _levels(u: np.ndarray, k: int, iterations: int = 25) -> np.ndarray:
    """K integer levels in [-127, 127] for the values `u` (1-D k-means, ends pinned at +-127)."""
    free = k - 2
    centres = np.quantile(u, (np.arange(free) + 0.5) / free) if free > 0 else np.zeros(0)
    for _ in range(iterations):
        levels = np.concatenate([[-127.0, 127.0], centres])
        nearest = np.abs(u[:, None] - levels[None, :]).argmin(axis=1)
        for j in range(free):
            members = u[nearest == j + 2]
            if members.size:
                centres[j] = members.mean()
    return np.unique(np.clip(np.round(np.concatenate([[-127.0, 127.0], centres])), -127, 127))


def cluster_kernel(kernel: np.ndarray, k: int, levels: np.ndarray | None = None):
    """(clustered kernel, levels): `kernel` (output channels last) with each channel on at most
    `k` shared integer levels scaled by the channel's max |w|. `levels` reuses a fitted set."""
    w = kernel.reshape(-1, kernel.shape[-1]).astype(np.float64)
    peak = np.abs(w).max(axis=0)
    peak[peak == 0] = 1.0
    u = 127.0 * w / peak
    if levels is None:
        levels = _levels(u.ravel(), k)
    nearest = levels[np.abs(u[..., None] - levels).argmin(axis=-1)]
    return (nearest * peak / 127.0).reshape(kernel.shape).astype(kernel.dtype), levels


def clustered_layers(model) -> list:
    return [layer for layer in model.layers if type(layer).__name__ in _CLUSTERED]


def cluster_model(model, k: int, refit: bool = True) -> dict[str, np.ndarray]:
    """Cluster every Conv/Dense kernel of `model` in place to at most `k` levels; returns the
    levels per layer. With `refit=False` the levels stored on a previous call are kept."""
    if not 2 <= k <= MAX_LEVELS:
        raise ValueError(f"k must be 2..{MAX_LEVELS}")
    fitted: dict[str, np.ndarray] = {}
    for layer in clustered_layers(model):
        weights = layer.get_weights()
        previous = None if refit else getattr(layer, "_tp_levels", None)
        weights[0], fitted[layer.name] = cluster_kernel(weights[0], k, previous)
        layer._tp_levels = fitted[layer.name]
        layer.set_weights(weights)
    return fitted
