"""Write spectrograms.npz: the vibration dataset as 97x10 time-frequency images.

Each 128-sample 3-axis window becomes 97 frames (32 samples, hop 1, Hann window) x 10 frequency
bins (the 2nd to 11th FFT bins), the log power summed over the three axes: images for the MLPerf
Tiny keyword-spotting network (ds_cnn), twice its usual 49 frames in time, which is what takes
its activations past the micro:bit's RAM.

    python examples/microbit/make_data.py
"""

from pathlib import Path

import numpy as np

from tinypipe.model.datasets import vibration_arrays

FRAME, HOP, BINS = 32, 1, 10


def spectrograms(windows: np.ndarray) -> np.ndarray:
    n, length, _ = windows.shape
    frames = (length - FRAME) // HOP + 1
    starts = np.arange(frames) * HOP
    idx = starts[:, None] + np.arange(FRAME)[None, :]  # (frames, FRAME)
    x = windows - windows.mean(axis=1, keepdims=True)  # drop gravity and offsets
    framed = x[:, idx, :] * np.hanning(FRAME)[None, None, :, None]  # (n, frames, FRAME, 3)
    power = (np.abs(np.fft.rfft(framed, axis=2)) ** 2).sum(axis=3)  # (n, frames, FRAME/2+1)
    logp = np.log(power[:, :, 1 : 1 + BINS] + 1e-6)
    logp = (logp - logp.mean()) / logp.std()
    return logp[..., None].astype(np.float32)


def main() -> None:
    x, y, names = vibration_arrays(seed=0)
    out = Path(__file__).with_name("spectrograms.npz")
    np.savez_compressed(out, x=spectrograms(x), y=y, class_names=np.array(names))
    print(f"Wrote {out}: {len(y)} samples of shape {spectrograms(x[:1]).shape[1:]}")


if __name__ == "__main__":
    main()
