"""Quantization-aware training for Keras 3 models, with fake quantization written here.

TF Model Optimization's `quantize_model` only accepts tf-keras (Keras 2) models; tinypipe's models
are Keras 3, and adding tf-keras would mean a second Keras and the full `tensorflow` wheel. The
scheme to imitate is small, so it is written directly with keras.ops:

- weights: per output channel, symmetric, narrow range: s_c = max|w_c| / 127 and
  w -> s_c * clip(round(w / s_c), -127, 127), exactly what the int8 converter stores;
- activations: per tensor, asymmetric 8-bit over a range [min(0, lo), max(0, hi)] tracked as a
  moving average of the batch extremes, as the converter's calibration measures them;
- gradients pass straight through the rounding (the straight-through estimator).

`quant_aware(model)` returns a model that shares the original's weights, so training it trains
the original. `snap_weights` then puts every kernel on its int8 grid, and the ordinary
converter (with calibration) produces the int8 model.
"""

from __future__ import annotations

import numpy as np

from .zoo import import_keras

_WEIGHTED = ("Conv1D", "Conv2D", "DepthwiseConv2D", "Dense")
# Layers whose output becomes a tensor with its own int8 range in the converted model.
_ACTIVATION_QUANT = _WEIGHTED + (
    "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Add", "Concatenate",
)  # fmt: skip


def _fake_quant_weights(kernel, ops):
    """Per-channel symmetric int8 fake quantization of a kernel (output channels last)."""
    flat = ops.reshape(kernel, (-1, kernel.shape[-1]))
    scale = ops.maximum(ops.max(ops.abs(flat), axis=0), 1e-12) / 127.0
    q = ops.clip(ops.round(flat / scale), -127.0, 127.0) * scale
    return ops.reshape(flat + ops.stop_gradient(q - flat), kernel.shape)


def _fake_quant_depthwise(kernel, ops):
    """Depthwise kernels (h, w, channels, multiplier) are per channel over channels*multiplier."""
    h, w, c, m = kernel.shape
    return ops.reshape(_fake_quant_weights(ops.reshape(kernel, (h, w, c * m)), ops), kernel.shape)


def _fake_quant_activation(x, lo, hi, ops):
    """Asymmetric int8 fake quantization over [lo, hi] (widened to contain 0), as TFLite's
    zero-point nudging does: the grid has 255 steps and 0.0 lies exactly on it."""
    lo, hi = ops.minimum(lo, 0.0), ops.maximum(hi, 0.0)
    scale = ops.maximum(hi - lo, 1e-8) / 255.0
    zero = ops.round(-128.0 - lo / scale)
    q = (ops.clip(ops.round(x / scale) + zero, -128.0, 127.0) - zero) * scale
    return x + ops.stop_gradient(q - x)


def _quant_wrapper_class():
    keras = import_keras()
    ops = keras.ops

    class QuantAware(keras.layers.Layer):
        """Runs `inner` with fake-quantized weights and fake-quantizes its output."""

        def __init__(self, inner, momentum: float = 0.99, **kwargs):
            super().__init__(name=f"qat_{inner.name}", **kwargs)
            self.inner = inner
            self.momentum = momentum
            self.kind = type(inner).__name__

        def build(self, *shapes):
            self.lo = self.add_weight(shape=(), initializer="zeros", trainable=False, name="lo")
            self.hi = self.add_weight(shape=(), initializer="zeros", trainable=False, name="hi")
            self.seen = self.add_weight(shape=(), initializer="zeros", trainable=False, name="seen")

        def _weighted(self, x):
            layer, kind = self.inner, self.kind
            if kind == "Dense":
                y = ops.matmul(x, _fake_quant_weights(layer.kernel, ops))
            elif kind == "DepthwiseConv2D":
                y = ops.depthwise_conv(
                    x, _fake_quant_depthwise(layer.kernel, ops), layer.strides, layer.padding,
                    layer.data_format, layer.dilation_rate,
                )  # fmt: skip
            else:
                y = ops.conv(
                    x, _fake_quant_weights(layer.kernel, ops), layer.strides, layer.padding,
                    layer.data_format, layer.dilation_rate,
                )  # fmt: skip
            if layer.use_bias:
                y = y + layer.bias
            return layer.activation(y) if layer.activation is not None else y

        def call(self, *args, training=None, **kwargs):
            if self.kind in _WEIGHTED:
                y = self._weighted(args[0])
            else:
                y = self.inner(*args, training=training, **kwargs)
            if self.kind not in _ACTIVATION_QUANT:
                return y
            if training:
                lo, hi = ops.min(y), ops.max(y)
                first = ops.equal(self.seen, 0.0)
                m = self.momentum
                self.lo.assign(ops.where(first, lo, m * self.lo + (1 - m) * lo))
                self.hi.assign(ops.where(first, hi, m * self.hi + (1 - m) * hi))
                self.seen.assign(1.0)
            return ops.where(
                ops.equal(self.seen, 0.0), y, _fake_quant_activation(y, self.lo, self.hi, ops)
            )

    return QuantAware


def quant_aware(model):
    """A training copy of `model` whose layers share its weights but compute with int8 fake
    quantization (see the module docstring)."""
    keras = import_keras()
    wrapper = _quant_wrapper_class()

    def wrap(layer):
        if type(layer).__name__ in _ACTIVATION_QUANT:
            return wrapper(layer)
        return layer

    return keras.models.clone_model(model, clone_function=wrap)


def snap_weights(model) -> None:
    """Put every Conv/Dense kernel of `model` exactly on its per-channel int8 grid, so the
    converter's own quantization of the weights loses nothing more."""
    for layer in model.layers:
        if type(layer).__name__ not in _WEIGHTED:
            continue
        weights = layer.get_weights()
        k = weights[0]
        depthwise = type(layer).__name__ == "DepthwiseConv2D"
        flat = k.reshape(-1, k.shape[-2] * k.shape[-1] if depthwise else k.shape[-1])
        scale = np.maximum(np.abs(flat).max(axis=0), 1e-12) / 127.0
        snapped = np.clip(np.round(flat / scale), -127, 127) * scale
        weights[0] = snapped.reshape(k.shape).astype(k.dtype)
        layer.set_weights(weights)
