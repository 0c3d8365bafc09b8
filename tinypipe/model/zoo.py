"""Keras model builders for microcontroller-sized networks, and the full-int8 converter.

Every builder returns a Keras 3 functional model on `keras.Input(..., batch_size=1)`: with a
fixed batch the TFLite converter emits no SHAPE/STRIDED_SLICE/PACK ops in front of Flatten.
Training uses the same builder with `batch_size=None` (see train.py).

TensorFlow and Keras are imported lazily, so `import tinypipe.zoo` stays cheap.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinypipe.errors import TinypipeError

# Builtin int8 ops that tinypipe's backends accept; every zoo model converts to a subset.
SUPPORTED_INT8_OPS = frozenset(
    """CONV_2D DEPTHWISE_CONV_2D FULLY_CONNECTED AVERAGE_POOL_2D MAX_POOL_2D ADD MUL PAD
    CONCATENATION MEAN SOFTMAX LOGISTIC TANH HARD_SWISH RELU RELU6 LEAKY_RELU QUANTIZE DEQUANTIZE
    RESHAPE SQUEEZE EXPAND_DIMS STRIDED_SLICE UNIDIRECTIONAL_SEQUENCE_LSTM SVDF""".split()
)


def import_keras():
    """Import Keras on the TensorFlow backend with TensorFlow's C++ logging turned down.

    Failures still surface as Python exceptions; the C++ log only repeats them or adds noise
    (e.g. a harmless tf.data attribute mismatch). oneDNN is off by default because its
    reordered float math makes training results depend on the CPU. Both can be overridden by
    setting the environment variables.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        import keras
    except ImportError:  # pragma: no cover - depends on the install
        raise TinypipeError(
            "Training and quantization need TensorFlow, which is not installed.",
            "Install the training extras: pip install 'tinypipe[train]'.",
        ) from None
    return keras


def import_tf():
    import_keras()
    import tensorflow as tf

    return tf


# ------------------------------------------------------------------ builders


class _Layers:
    """`keras.layers` whose layers get names numbered within one model (conv2d_1, dense_2, ...).

    Keras' automatic names come from a process-wide counter, so a second build in the same
    process would name its tensors differently and the .tflite bytes would differ.
    """

    def __init__(self, keras) -> None:
        self._layers = keras.layers
        self._counts: dict[str, int] = {}

    def __getattr__(self, cls_name: str):
        cls = getattr(self._layers, cls_name)

        def make(*args, **kwargs):
            if "name" not in kwargs:
                base = cls_name.lower()
                self._counts[base] = self._counts.get(base, 0) + 1
                kwargs["name"] = f"{base}_{self._counts[base]}"
            return cls(*args, **kwargs)

        return make


def _need_rank(model: str, input_shape: tuple[int, ...], rank: int, what: str) -> None:
    if len(input_shape) != rank:
        hint = suggest_model(input_shape)
        raise TinypipeError(
            f"Model '{model}' expects {what} input, but the data has shape {tuple(input_shape)}.",
            f"Use --model {hint} for data of this shape.",
        )


def _scaled(width: float) -> Callable[[int], int]:
    """Channel count `n` scaled by the width multiplier, at least one channel."""
    return lambda n: max(1, int(round(n * width)))


def tiny_cnn(
    input_shape: tuple[int, ...] = (8, 8, 1),
    num_classes: int = 10,
    batch_size: int | None = 1,
    width: float = 1.0,
    blocks: int = 1,
    kernel: int = 3,
):
    """The digits CNN: conv, depthwise conv, pointwise conv, two pools, two dense layers.

    Knobs: `width` scales every layer's channels, `blocks` repeats the depthwise + pointwise
    pair, `kernel` is the spatial kernel of the first conv and the depthwise convs.
    """
    keras = import_keras()
    ch = _scaled(width)
    L = _Layers(keras)
    _need_rank("tiny_cnn", input_shape, 3, "image (height, width, channels)")
    if min(input_shape[:2]) < 4:
        raise TinypipeError(
            f"Model 'tiny_cnn' needs images of at least 4x4 pixels, got {tuple(input_shape)}.",
            "Use --model mlp for very small inputs.",
        )
    inp = keras.Input(input_shape, batch_size=batch_size, name="input")
    x = L.Conv2D(ch(8), kernel, padding="same", activation="relu")(inp)
    for _ in range(blocks):
        x = L.DepthwiseConv2D(kernel, padding="same", activation="relu")(x)
        x = L.Conv2D(ch(16), 1, activation="relu")(x)
    x = L.MaxPooling2D(2)(x)
    x = L.AveragePooling2D(2)(x)
    x = L.Flatten()(x)
    x = L.Dense(ch(32), activation="relu")(x)
    x = L.Dense(num_classes)(x)
    out = L.Softmax()(x)
    return keras.Model(inp, out, name="tiny_cnn")


def _conv_bn_relu(L, x, filters: int, kernel, strides=1):
    x = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    return L.ReLU()(x)


def ds_cnn(
    input_shape: tuple[int, ...] = (49, 10, 1),
    num_classes: int = 12,
    batch_size: int | None = 1,
    width: float = 1.0,
    blocks: int = 4,
):
    """MLPerf Tiny keyword spotting DS-CNN (49 MFCC frames x 10 coefficients).

    Knobs: `width` scales the 64 channels, `blocks` is the number of depthwise-separable blocks.
    """
    keras = import_keras()
    ch = _scaled(width)
    L = _Layers(keras)
    _need_rank("ds_cnn", input_shape, 3, "spectrogram (frames, coefficients, channels)")
    inp = keras.Input(input_shape, batch_size=batch_size, name="input")
    x = _conv_bn_relu(L, inp, ch(64), (10, 4), strides=2)
    x = L.Dropout(0.2)(x)
    for _ in range(blocks):
        x = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        x = L.ReLU()(x)
        x = _conv_bn_relu(L, x, ch(64), 1)
    x = L.Dropout(0.4)(x)
    # Pool over the whole remaining map: 25x5 for the MLPerf input.
    x = L.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)
    x = L.Flatten()(x)
    x = L.Dense(num_classes)(x)
    out = L.Softmax()(x)
    return keras.Model(inp, out, name="ds_cnn")


def mobilenet_v1(
    input_shape: tuple[int, ...] = (96, 96, 3), num_classes: int = 2, batch_size: int | None = 1
):
    """MLPerf Tiny visual wake words: MobileNetV1 with width 0.25, global average pool, dense."""
    keras = import_keras()
    L = _Layers(keras)
    _need_rank("mobilenet_v1", input_shape, 3, "image (height, width, channels)")
    if min(input_shape[:2]) < 32:
        raise TinypipeError(
            f"Model 'mobilenet_v1' needs images of at least 32x32 pixels, got {tuple(input_shape)}.",
            "Use --model tiny_cnn for small images.",
        )
    inp = keras.Input(input_shape, batch_size=batch_size, name="input")
    # input_tensor keeps the batch-1 input in the graph instead of nesting a variable-batch model.
    # The global average pool is added here rather than with pooling="avg" (same layer) so that
    # it gets a per-model name, which keeps repeated conversions byte-identical.
    base = keras.applications.MobileNet(
        input_shape=tuple(input_shape),
        alpha=0.25,
        weights=None,
        include_top=False,
        pooling=None,
        input_tensor=inp,
    )
    x = L.GlobalAveragePooling2D()(base.output)
    x = L.Dense(num_classes)(x)
    out = L.Softmax()(x)
    return keras.Model(inp, out, name="mobilenet_v1")


def resnet8(
    input_shape: tuple[int, ...] = (32, 32, 3), num_classes: int = 10, batch_size: int | None = 1
):
    """MLPerf Tiny image classification ResNet-8 (CIFAR-10 sized)."""
    keras = import_keras()
    L = _Layers(keras)
    _need_rank("resnet8", input_shape, 3, "image (height, width, channels)")
    inp = keras.Input(input_shape, batch_size=batch_size, name="input")
    x = L.Conv2D(16, 3, padding="same")(inp)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = L.Conv2D(filters, 3, strides=stride, padding="same")(x)
        y = L.BatchNormalization()(y)
        y = L.ReLU()(y)
        y = L.Conv2D(filters, 3, padding="same")(y)
        y = L.BatchNormalization()(y)
        if stride != 1:
            # Projection shortcut so shapes match the strided branch.
            x = L.Conv2D(filters, 1, strides=stride, padding="same")(x)
        x = L.Add()([x, y])
        x = L.ReLU()(x)
    x = L.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)  # 8x8 for 32x32 input
    x = L.Flatten()(x)
    x = L.Dense(num_classes)(x)
    out = L.Softmax()(x)
    return keras.Model(inp, out, name="resnet8")


def fc_autoencoder(
    input_shape: tuple[int, ...] = (640,),
    num_classes: int | None = None,
    batch_size: int | None = 1,
):
    """MLPerf Tiny anomaly detection autoencoder; the output reconstructs the (flattened) input.

    `num_classes` is ignored: the output size is the input size.
    """
    keras = import_keras()
    L = _Layers(keras)
    inp = keras.Input(input_shape, batch_size=batch_size, name="input")
    size = int(np.prod(input_shape))
    x = inp if len(input_shape) == 1 else L.Reshape((size,))(inp)

    def dense_bn_relu(x, units):
        x = L.Dense(units)(x)
        x = L.BatchNormalization()(x)
        return L.ReLU()(x)

    for _ in range(4):
        x = dense_bn_relu(x, 128)
    x = dense_bn_relu(x, 8)  # bottleneck
    for _ in range(4):
        x = dense_bn_relu(x, 128)
    out = L.Dense(size)(x)
    if len(input_shape) != 1:
        out = L.Reshape(tuple(input_shape))(out)
    return keras.Model(inp, out, name="fc_autoencoder")


def conv1d(
    input_shape: tuple[int, ...] = (128, 3),
    num_classes: int = 4,
    batch_size: int | None = 1,
    width: float = 1.0,
    blocks: int = 3,
    kernel: int = 0,
):
    """1-D CNN for sensor windows (time steps, axes): three conv blocks, global average, dense.

    Knobs: `width` scales the channels, `blocks` is the number of conv blocks (a 2x max pool
    between two blocks), `kernel` the kernel of every conv (0: 7, 5, then 3).
    """
    keras = import_keras()
    ch = _scaled(width)
    L = _Layers(keras)
    _need_rank("conv1d", input_shape, 2, "sensor window (time steps, channels)")
    if input_shape[0] < 8:
        raise TinypipeError(
            f"Model 'conv1d' needs windows of at least 8 time steps, got {tuple(input_shape)}.",
            "Use --model mlp for short feature vectors.",
        )
    inp = keras.Input(input_shape, batch_size=batch_size, name="input")
    x = inp
    for i in range(blocks):
        if i:
            x = L.MaxPooling1D(2)(x) if x.shape[1] >= 2 else x
        size = kernel or ((7, 5)[i] if i < 2 else 3)
        x = L.Conv1D(ch(16 if i == 0 else 32), size, padding="same", activation="relu")(x)
    # Fault signatures can sit anywhere in the window: average over time.
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dense(ch(32), activation="relu")(x)
    x = L.Dense(num_classes)(x)
    out = L.Softmax()(x)
    return keras.Model(inp, out, name="conv1d")


def _sequence_input(keras, L, model: str, input_shape, batch_size, axes: str):
    """The Input of a sequence model and the sequence it reads: (steps, channels) as given,
    images (rows, columns, channels) row by row."""
    if len(input_shape) not in (2, 3):
        _need_rank(model, input_shape, 2, f"sequence ({axes})")
    inp = keras.Input(input_shape, batch_size=batch_size, name="input")
    if len(input_shape) == 2:
        return inp, inp
    return inp, L.Reshape((input_shape[0], input_shape[1] * input_shape[2]))(inp)


def lstm(
    input_shape: tuple[int, ...] = (128, 3),
    num_classes: int = 4,
    batch_size: int | None = 1,
    width: float = 1.0,
):
    """LSTM classifier for sequences (time steps, channels), or images read row by row (rows,
    columns, channels). Sequences of 32 steps or more first pass a strided Conv1D front end that
    shortens them 4x; an LSTM reads the sequence and a dense layer classifies its last state.

    Knob: `width` scales the front end's 16 filters and the LSTM's 32 units.
    """
    keras = import_keras()
    L = _Layers(keras)
    ch = _scaled(width)
    inp, x = _sequence_input(keras, L, "lstm", input_shape, batch_size, "time steps, channels")
    if input_shape[0] >= 32:
        x = L.Conv1D(ch(16), 8, strides=4, padding="same", activation="relu")(x)
    x = L.LSTM(ch(32))(x)
    x = L.Dense(num_classes)(x)
    out = L.Softmax()(x)
    return keras.Model(inp, out, name="lstm")


def svdf(
    input_shape: tuple[int, ...] = (49, 10),
    num_classes: int = 12,
    batch_size: int | None = 1,
    width: float = 1.0,
):
    """SVDF keyword-spotting classifier: sequences (frames, features), e.g. spectrogram rows, or
    images read row by row. An SVDF layer (rank 2, memory of the last 32 frames at most) reads
    the frames; a dense layer classifies its output at the last frame. Its int8 .tflite is
    written by tinypipe (svdf_tflite.py), as the TF converter makes no SVDF op.

    Knob: `width` scales the SVDF's 32 units.
    """
    from .svdf import svdf_layer_class

    keras = import_keras()
    L = _Layers(keras)
    ch = _scaled(width)
    inp, x = _sequence_input(keras, L, "svdf", input_shape, batch_size, "frames, features")
    x = svdf_layer_class()(ch(32), min(int(input_shape[0]), 32), rank=2, name="svdf_1")(x)
    x = L.Dense(num_classes)(x)
    out = L.Softmax()(x)
    return keras.Model(inp, out, name="svdf")


def mlp(
    input_shape: tuple[int, ...] = (16,),
    num_classes: int = 2,
    batch_size: int | None = 1,
    width: float = 1.0,
    depth: int = 2,
):
    """A small multilayer perceptron for tabular features (e.g. a CSV dataset).

    Knobs: `width` scales the hidden layers (32, then 16 units), `depth` is their number.
    """
    keras = import_keras()
    L = _Layers(keras)
    ch = _scaled(width)
    inp = keras.Input(input_shape, batch_size=batch_size, name="input")
    x = inp if len(input_shape) == 1 else L.Flatten()(inp)
    for i in range(depth):
        x = L.Dense(ch(32 if i == 0 else 16), activation="relu")(x)
    x = L.Dense(num_classes)(x)
    out = L.Softmax()(x)
    return keras.Model(inp, out, name="mlp")


@dataclass(frozen=True)
class ModelInfo:
    builder: Callable
    input_shape: tuple[int, ...]  # the reference input (MLPerf Tiny where applicable)
    num_classes: int | None
    task: str  # "classification" or "autoencoder"
    about: str
    knobs: tuple[str, ...] = ()  # architecture keywords the builder takes (see KNOB_RANGES)


MODEL_INFO: dict[str, ModelInfo] = {
    "tiny_cnn": ModelInfo(
        tiny_cnn, (8, 8, 1), 10, "classification", "small image CNN (digits)",
        ("width", "blocks", "kernel"),
    ),
    "ds_cnn": ModelInfo(
        ds_cnn, (49, 10, 1), 12, "classification", "MLPerf Tiny keyword spotting",
        ("width", "blocks"),
    ),
    "mobilenet_v1": ModelInfo(
        mobilenet_v1, (96, 96, 3), 2, "classification", "MLPerf Tiny visual wake words"
    ),
    "resnet8": ModelInfo(resnet8, (32, 32, 3), 10, "classification", "MLPerf Tiny image classes"),
    "fc_autoencoder": ModelInfo(
        fc_autoencoder, (640,), None, "autoencoder", "MLPerf Tiny anomaly detection"
    ),
    "conv1d": ModelInfo(
        conv1d, (128, 3), 4, "classification", "1-D CNN for sensor windows",
        ("width", "blocks", "kernel"),
    ),
    "mlp": ModelInfo(
        mlp, (16,), 2, "classification", "dense network for tabular features", ("width", "depth")
    ),
    "lstm": ModelInfo(
        lstm, (128, 3), 4, "classification", "LSTM for sensor sequences", ("width",)
    ),
    "svdf": ModelInfo(
        svdf, (49, 10), 12, "classification", "SVDF keyword spotting over frames",
        ("width",)
    ),
}  # fmt: skip

# knob -> (type, lowest, highest): what a builder accepts for each architecture keyword.
KNOB_RANGES: dict[str, tuple[type, float, float]] = {
    "width": (float, 0.05, 16.0),  # channel multiplier
    "blocks": (int, 1, 16),  # repeated blocks
    "depth": (int, 1, 16),  # hidden layers
    "kernel": (int, 1, 15),  # spatial kernel size (conv1d: 0 keeps 7, 5, 3)
}


def check_knobs(name: str, knobs: dict) -> dict:
    """`knobs` for zoo model `name`, checked against the knobs it has and their ranges."""
    info = model_info(name)
    bad = sorted(set(knobs) - set(info.knobs))
    if bad:
        raise TinypipeError(
            f"Model '{name}' has no knob(s) {', '.join(bad)}.",
            f"Its knobs: {', '.join(info.knobs) or 'none'}.",
        )
    out = {}
    for key, value in knobs.items():
        typ, lo, hi = KNOB_RANGES[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and (typ is float or float(value).is_integer())
        lowest = 0 if (name, key) == ("conv1d", "kernel") else lo
        if not ok or not lowest <= value <= hi:
            raise TinypipeError(
                f"Model '{name}': {key} = {value!r} is not a valid {typ.__name__} "
                f"between {lowest} and {hi}.",
                f"Use e.g. {key} = {typ(1)!r}.",
            )
        out[key] = typ(value)
    return out


# name -> builder(input_shape, num_classes, batch_size=1)
MODELS: dict[str, Callable] = {name: info.builder for name, info in MODEL_INFO.items()}


def model_info(name: str) -> ModelInfo:
    """Registry entry for `name`; a TinypipeError listing the valid names otherwise."""
    if name not in MODEL_INFO:
        raise TinypipeError(
            f"Unknown model '{name}'.",
            "Available models: "
            + ", ".join(f"{n} ({i.about})" for n, i in MODEL_INFO.items())
            + ".",
        )
    return MODEL_INFO[name]


def build_model(
    name: str,
    input_shape: tuple[int, ...] | None = None,
    num_classes: int | None = None,
    batch_size: int | None = 1,
    knobs: dict | None = None,
):
    """Build zoo model `name`; missing shape/classes default to the model's reference sizes.
    `knobs` sets the family's architecture keywords (ModelInfo.knobs: width, blocks, ...)."""
    info = model_info(name)
    shape = tuple(int(d) for d in (input_shape or info.input_shape))
    classes = num_classes if num_classes is not None else info.num_classes
    return info.builder(shape, classes, batch_size=batch_size, **check_knobs(name, knobs or {}))


def suggest_model(input_shape: tuple[int, ...]) -> str:
    """The zoo model that fits data of this shape best."""
    if len(input_shape) == 3:
        return "tiny_cnn" if max(input_shape[:2]) < 32 else "resnet8"
    if len(input_shape) == 2:
        return "conv1d"
    return "mlp"


# ------------------------------------------------------------------ conversion


def with_batch_one(model):
    """`model` itself if its input batch is fixed to 1, else a wrapper on a batch-1 Input."""
    keras = import_keras()
    if len(model.inputs) != 1:
        raise TinypipeError(
            f"The model has {len(model.inputs)} inputs; tinypipe handles single-input models.",
            "Export a model with one input tensor.",
        )
    shape = tuple(model.inputs[0].shape)
    if shape[0] == 1:
        return model
    if any(d is None for d in shape[1:]):
        raise TinypipeError(
            f"The model's input shape {shape} has unknown dimensions besides the batch.",
            "Microcontroller models need fixed shapes: build the model with a fully known input shape.",
        )
    inp = keras.Input(shape[1:], batch_size=1, name="input")
    return keras.Model(inp, model(inp), name=model.name)


ACTIVATION_TYPES = ("int8", "int16")


def convert_int8(
    keras_model,
    representative: np.ndarray,
    fixed_batch: bool = True,
    activations: str = "int8",
) -> bytes:
    """Full-integer int8 post-training quantization of a Keras model to .tflite bytes.

    `representative` holds calibration samples shaped (n, *input_shape) in the model's float input
    domain; the converter measures activation ranges on them. Inputs and outputs become int8.
    `activations="int16"` is the converter's 16x8 mode instead: int16 activations (symmetric,
    zero point 0), int8 weights, int64 biases, int16 inputs and outputs.
    `fixed_batch=False` converts the model as it is: built without a batch size, its tensors then
    carry shape_signature [-1, ...], like most published .tflite files.
    """
    tf = import_tf()
    model = with_batch_one(keras_model) if fixed_batch else keras_model
    rep = np.asarray(representative, dtype=np.float32)
    if rep.ndim < 2 or len(rep) == 0:
        raise TinypipeError(
            "Int8 conversion needs at least one representative sample.",
            "Pass calibration data shaped (samples, *input_shape).",
        )

    from .svdf_tflite import is_svdf_model, svdf_int8_tflite

    if is_svdf_model(keras_model):  # the converter makes no SVDF op: tinypipe writes the model
        if activations != "int8":
            raise TinypipeError(
                f"SVDF models are quantized to int8 only, not {activations} activations.",
                "Leave out --activations (int8 is the default).",
            )
        return svdf_int8_tflite(keras_model, rep)  # any batch size: the written one is 1

    from .recurrent import as_tf_keras, needs_tf_keras

    if needs_tf_keras(model):  # see recurrent.py: only tf-keras LSTMs convert fused
        model = as_tf_keras(model, rep)

    def samples():
        for x in rep:
            yield [x[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    if activations not in ACTIVATION_TYPES:
        raise TinypipeError(
            f"Activations must be one of {', '.join(ACTIVATION_TYPES)}, not '{activations}'.",
            "Use int8 (the default) or int16 (16x8: int16 activations, int8 weights).",
        )
    if activations == "int16":
        ops = tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        converter.target_spec.supported_ops = [ops]
        converter.inference_input_type = converter.inference_output_type = tf.int16
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
    from tinypipe.check.reference import quiet_stderr

    # The converter prints its SavedModel export to stdout and MLIR chatter to fd 2; the
    # exception it raises on failure carries the useful part.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), quiet_stderr():
        warnings.simplefilter("ignore")
        try:
            return bytes(converter.convert())
        except Exception as exc:
            raise TinypipeError(
                f"The TFLite converter could not quantize the model to {activations} "
                f"activations: {exc}".strip(),
                "Use layers with int8 TFLite builtin kernels (see tinypipe.zoo for examples).",
            ) from None


# The models tinypipe is measured on (tests, benchmarks): the digits CNN and the MLPerf Tiny
# shapes, as label -> (zoo model, builder arguments). Labels follow BASELINES' model names.
REFERENCE_MODELS: dict[str, tuple[str, dict]] = {
    "digits_cnn": ("tiny_cnn", {"input_shape": (8, 8, 1), "num_classes": 10}),
    "ds_cnn": ("ds_cnn", {}),
    "mobilenet_v1": ("mobilenet_v1", {}),
    "resnet8": ("resnet8", {}),
    "fc_autoencoder": ("fc_autoencoder", {}),
}


def make_int8_model(
    name: str,
    input_shape: tuple[int, ...] | None = None,
    num_classes: int | None = None,
    samples: int = 8,
    seed: int = 0,
    batch_size: int | None = 1,
) -> bytes:
    """A zoo model with random (untrained) weights, quantized to int8 on uniform random data.

    Quick way for tests and benchmarks to get MLPerf-shaped int8 .tflite models. With
    `batch_size=None` the model is built and converted with an open batch, as the published
    MLPerf Tiny models were.
    """
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    model = build_model(name, input_shape, num_classes, batch_size=batch_size)
    shape = tuple(model.inputs[0].shape[1:])
    rep = np.random.default_rng(seed).uniform(0.0, 1.0, size=(samples, *shape)).astype(np.float32)
    unit_variance_init(model, rep)
    return convert_int8(model, rep, fixed_batch=batch_size is not None)


def unit_variance_init(model, data: np.ndarray) -> None:
    """Rescale each conv/dense layer, in order, so its output has unit variance on `data`.

    Random initialisation shrinks activations layer after layer (ReLU halves the variance), so
    a deep untrained net ends with logits of ~1e-6 and degenerate int8 outputs. Normalising layer
    by layer (LSUV) keeps every tensor's int8 range in use, which is what testing needs.
    """
    keras = import_keras()
    for layer in model.layers:
        if not any(hasattr(layer, k) for k in ("kernel", "depthwise_kernel")):
            continue
        probe = keras.Model(model.inputs, layer.output)
        std = float(np.std(probe.predict(data, batch_size=1, verbose=0)))
        if std > 1e-12:
            layer.set_weights([w / std for w in layer.get_weights()])
