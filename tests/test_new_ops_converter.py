"""The new ops as the TF converter writes them: a Keras model with Permute, PReLU, Resizing
(nearest), UpSampling2D (bilinear), Subtract, Maximum, Conv2DTranspose and GlobalMaxPooling2D,
converted to full int8, compiled and checked bit for bit against TFLM (under ASan/UBSan)."""

from __future__ import annotations

import numpy as np
from op_cases import check_bit_exact

from tinypipe.compiler.graph import read_tflite


def test_converter_model_with_new_ops_bit_exact() -> None:
    from tinypipe.model.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers
    keras.utils.set_random_seed(7)
    inp = keras.Input((6, 5, 3), batch_size=1)
    x = layers.Permute((2, 1, 3))(inp)
    x = layers.Conv2D(6, 3, padding="same")(x)
    x = layers.PReLU(shared_axes=[1, 2])(x)
    near = layers.Resizing(10, 12, interpolation="nearest")(x)  # UpSampling2D makes TILE
    smooth = layers.UpSampling2D(2, interpolation="bilinear")(x)
    x = layers.Concatenate()([layers.Subtract()([near, smooth]), layers.Maximum()([near, smooth])])
    x = layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
    x = layers.GlobalMaxPooling2D()(x)
    rep = np.random.default_rng(1).uniform(-1, 1, (16, 6, 5, 3)).astype(np.float32)
    tflite = convert_int8(keras.Model(inp, x), rep)
    ops = {op.opcode for op in read_tflite(tflite).operators}
    expected = {"TRANSPOSE", "PRELU", "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", "SUB",
                "MAXIMUM", "TRANSPOSE_CONV", "REDUCE_MAX"}  # fmt: skip
    assert expected <= ops, " ".join(sorted(ops))
    check_bit_exact(tflite, 21, sanitize=True)
