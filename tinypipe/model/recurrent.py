"""Keras 3 LSTM models carried over to tf-keras for the TFLite converter.

The TF converter fuses an LSTM layer into one UNIDIRECTIONAL_SEQUENCE_LSTM op (what TFLM and
tinypipe run) only when the layer comes from tf-keras, whose LSTM marks its graph for the
converter; a Keras 3 LSTM becomes a WHILE loop nobody on a microcontroller runs. tinypipe trains
with Keras 3, so before converting, a chain of layers holding an LSTM is rebuilt layer by layer
in tf-keras with the same configuration and weights (both keep LSTM weights as kernel,
recurrent kernel, bias with gates i, f, c, o), and the copy is checked against the original on
the calibration data.
"""

from __future__ import annotations

import inspect

import numpy as np

from tinypipe.errors import TinypipeError

RECURRENT = ("LSTM",)
# Per-layer settings that only matter for training: the weights are copied over.
_TRAINING_ONLY = ("_initializer", "_regularizer", "_constraint")


def needs_tf_keras(model) -> bool:
    """A Keras 3 model with an LSTM (a tf-keras model converts as it is)."""
    if type(model).__module__.startswith("tf_keras"):
        return False
    return any(type(layer).__name__ in RECURRENT for layer in model.layers)


def _import_tf_keras():
    try:
        import tf_keras
    except ImportError:  # pragma: no cover - depends on the install
        raise TinypipeError(
            "Converting an LSTM model needs tf-keras, which is not installed.",
            "Install the tf-keras release matching TensorFlow: pip install --no-deps "
            "'tf-keras~=<TensorFlow major.minor>.0' (scripts/setup.sh does).",
        ) from None
    return tf_keras


def _chain(model) -> list:
    """The model's layers after its input, when each takes the previous one's output."""
    layers = model.layers[1:]
    previous = model.layers[0]
    for layer in layers:
        inbound = [n for n in layer._inbound_nodes]
        parents = [t._keras_history[0] for n in inbound for t in n.input_tensors]
        if parents != [previous]:
            raise TinypipeError(
                f"Layer '{layer.name}' does not simply follow '{previous.name}': tinypipe carries "
                "only chains of layers with an LSTM over to the converter.",
                "Build the LSTM model as a plain sequence of layers.",
            )
        previous = layer
    return layers


def _copy_layer(tf_keras, layer):
    name = type(layer).__name__
    cls = getattr(tf_keras.layers, name, None)
    if cls is None:
        raise TinypipeError(
            f"Layer '{layer.name}' ({name}) has no tf-keras counterpart to convert an LSTM model.",
            "Use standard Keras layers (Conv1D, LSTM, Dense, Softmax, ...) around the LSTM.",
        )
    accepted = inspect.signature(cls.__init__).parameters
    config = {
        k: v
        for k, v in layer.get_config().items()
        if k in accepted and k != "dtype" and not k.endswith(_TRAINING_ONLY)
    }
    return cls(**config)


def as_tf_keras(model, samples: np.ndarray):
    """A tf-keras copy of the Keras 3 `model` (batch-1 input, a chain of layers), checked to
    give the same outputs on `samples` (to float rounding)."""
    tf_keras = _import_tf_keras()
    shape = tuple(model.inputs[0].shape)
    inp = tf_keras.Input(shape[1:], batch_size=shape[0], name=model.inputs[0].name)
    x = inp
    copies = []
    for layer in _chain(model):
        copy = _copy_layer(tf_keras, layer)
        x = copy(x)
        copies.append((copy, layer))
    for copy, layer in copies:
        copy.set_weights(layer.get_weights())
    clone = tf_keras.Model(inp, x, name=model.name)
    probe = np.asarray(samples[: min(len(samples), 8)], np.float32)
    want = np.concatenate([np.asarray(model(p[None])) for p in probe])
    got = np.concatenate([np.asarray(clone(p[None])) for p in probe])
    if not np.allclose(want, got, rtol=1e-4, atol=1e-5):
        raise TinypipeError(
            "The tf-keras copy of the LSTM model computes different outputs "
            f"(max difference {float(np.abs(want - got).max()):.3g}).",
            "Use standard layers with default options around the LSTM.",
        )
    return clone
