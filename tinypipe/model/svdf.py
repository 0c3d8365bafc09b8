"""SVDF (singular value decomposition filter) as a Keras layer, with the math of the TFLite op.

Per filter f, each frame's features go through a feature filter (a dot product) and the filter's
last `memory` results through a time filter; the `rank` filters of a unit are summed, a bias
added and ReLU applied. Filter f = unit * rank + r, as TFLM groups them. The TFLite op consumes
one frame per call and keeps the feature results in its state ([filters, memory], oldest first);
this layer reads a whole sequence and returns the output at its last frame, i.e. the op run over
the frames from a zero state. Frames older than the last `memory` cannot reach that output.

The TF converter never turns Keras layers into an SVDF op, so `svdf_tflite.py` writes the int8
model itself.
"""

from __future__ import annotations

from .zoo import import_keras

_CLASS = None


def svdf_layer_class():
    """The Keras SVDF layer class (built on first use so importing tinypipe needs no Keras),
    registered for saving and loading as "tinypipe>SVDF"."""
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    keras = import_keras()
    ops = keras.ops

    @keras.saving.register_keras_serializable(package="tinypipe", name="SVDF")
    class SVDF(keras.layers.Layer):
        """(batch, frames, features) -> (batch, units): the SVDF op's output at the last frame.

        Weights in the TFLite op's layouts: feature [filters, features], time [filters, memory]
        (the newest frame last), bias [units]; filters = units * rank.
        """

        def __init__(self, units: int, memory: int, rank: int = 1, **kwargs) -> None:
            super().__init__(**kwargs)
            self.units, self.memory, self.rank = int(units), int(memory), int(rank)

        def build(self, input_shape) -> None:
            filters = self.units * self.rank
            init = keras.initializers.GlorotUniform(seed=0)
            self.weights_feature = self.add_weight(
                name="weights_feature", shape=(filters, int(input_shape[-1])), initializer=init
            )
            self.weights_time = self.add_weight(
                name="weights_time", shape=(filters, self.memory), initializer=init
            )
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

        def call(self, x):
            frames = x.shape[1]
            # feature results of the last `memory` frames, zeros before the first frame
            a = ops.einsum(
                "btc,fc->btf", x[:, max(0, frames - self.memory) :, :], self.weights_feature
            )
            if frames < self.memory:
                a = ops.pad(a, ((0, 0), (self.memory - frames, 0), (0, 0)))
            per_filter = ops.einsum("bmf,fm->bf", a, self.weights_time)
            per_unit = ops.sum(ops.reshape(per_filter, (-1, self.units, self.rank)), axis=2)
            return ops.relu(per_unit + self.bias)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.units)

        def get_config(self) -> dict:
            return {
                **super().get_config(),
                "units": self.units,
                "memory": self.memory,
                "rank": self.rank,
            }

    _CLASS = SVDF
    return SVDF
