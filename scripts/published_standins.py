#!/usr/bin/env python3
"""Write stand-ins for published int8 .tflite files, made the way those were made.

The official MLPerf Tiny reference models (keyword spotting DS-CNN, visual wake words
MobileNetV1 0.25, image classification ResNet-8, anomaly detection autoencoder) and TFLM's
hello_world were converted from Keras models built *without* a batch size, so every tensor
carries shape_signature [-1, ...] while its static shape is [1, ...]. This script builds the same
architectures (tinypipe's zoo, identical MAC counts; hello_world's 1 -> 16 -> 16 -> 1 dense net),
leaves the batch open, and converts them to full int8 with the TF converter; weights are random
(rescaled layer by layer so every int8 range is in use), which is all a compiler test needs.

    python scripts/published_standins.py -o standins/            # all five
    python scripts/published_standins.py -o standins/ ds_cnn hello_world
    tinypipe validate standins/ds_cnn.tflite --board mps2-an386 --inputs x.npy

Needs the [train] extra (TensorFlow).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

# label -> (zoo model or None, what the published file is)
STANDINS: dict[str, tuple[str | None, str]] = {
    "ds_cnn": ("ds_cnn", "MLPerf Tiny keyword spotting, kws_ref_model.tflite"),
    "mobilenet_v1": ("mobilenet_v1", "MLPerf Tiny visual wake words, vww_96_int8.tflite"),
    "resnet8": ("resnet8", "MLPerf Tiny image classification, pretrainedResnet_quant.tflite"),
    "fc_autoencoder": ("fc_autoencoder", "MLPerf Tiny anomaly detection, ad01_int8.tflite"),
    "hello_world": (None, "TFLM hello_world, hello_world_int8.tflite"),
}


def hello_world_int8(seed: int = 0) -> bytes:
    """TFLM's hello_world shape: x -> Dense(16, relu) -> Dense(16, relu) -> Dense(1), open batch."""
    from tinypipe.model.zoo import convert_int8, import_keras, unit_variance_init

    keras = import_keras()
    keras.utils.set_random_seed(seed)
    inp = keras.Input((1,), name="input")  # no batch_size, as in the TFLM example's training
    x = keras.layers.Dense(16, activation="relu")(inp)
    x = keras.layers.Dense(16, activation="relu")(x)
    model = keras.Model(inp, keras.layers.Dense(1)(x), name="hello_world")
    rep = np.random.default_rng(seed).uniform(0, 2 * np.pi, (64, 1)).astype(np.float32)
    unit_variance_init(model, rep)
    return convert_int8(model, rep, fixed_batch=False)


def make_standin(label: str, seed: int = 0) -> bytes:
    """The int8 .tflite bytes of one stand-in (see STANDINS)."""
    from tinypipe.model.zoo import make_int8_model

    zoo_name, _ = STANDINS[label]
    if zoo_name is None:
        return hello_world_int8(seed)
    return make_int8_model(zoo_name, seed=seed, batch_size=None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("models", nargs="*", help=f"any of {', '.join(STANDINS)} (default: all)")
    ap.add_argument("-o", "--out", type=Path, required=True, help="folder to write NAME.tflite into")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    unknown = [m for m in args.models if m not in STANDINS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(STANDINS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for label in args.models or list(STANDINS):
        path = args.out / f"{label}.tflite"
        path.write_bytes(make_standin(label, args.seed))
        print(f"{path}  ({STANDINS[label][1]}, open batch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
