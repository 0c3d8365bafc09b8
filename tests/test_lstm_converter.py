"""Keras LSTMs as the TF converter writes them (UNIDIRECTIONAL_SEQUENCE_LSTM with variable state
tensors, a cell clip and shape-[0] intermediate placeholders), compiled and checked bit for bit
against TFLM: on the host under ASan/UBSan and on the emulated Cortex-M4 (mps2-an386). Every
sample continues the state the previous one left, in TFLM as in the compiled C.

The converter fuses only tf-keras LSTM layers (scripts/setup.sh installs tf-keras)."""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import check_bit_exact, check_bit_exact_on_board

from tinypipe.compiler.graph import read_tflite


@pytest.fixture(scope="module")
def keras_lstm() -> bytes:
    from tinypipe.model.zoo import convert_int8, import_tf

    import_tf()
    import tf_keras

    tf_keras.utils.set_random_seed(3)
    inp = tf_keras.Input((9, 5), batch_size=1)
    x = tf_keras.layers.LSTM(12, return_sequences=True)(inp)
    x = tf_keras.layers.LSTM(7)(x)
    out = tf_keras.layers.Dense(3)(x)
    rep = np.random.default_rng(1).normal(0, 1, (24, 9, 5)).astype(np.float32)
    return convert_int8(tf_keras.Model(inp, out), rep, fixed_batch=False)


def test_keras_lstm_converts_to_the_fused_op(keras_lstm: bytes) -> None:
    g = read_tflite(keras_lstm)
    lstms = [op for op in g.operators if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert len(lstms) == 2
    assert all(g.tensors[op.inputs[i]].is_variable for op in lstms for i in (18, 19))


def test_keras_lstm_bit_exact_on_host(keras_lstm: bytes) -> None:
    check_bit_exact(keras_lstm, 31, sanitize=True)


@pytest.mark.qemu
def test_keras_lstm_bit_exact_on_m4(keras_lstm: bytes) -> None:
    check_bit_exact_on_board(keras_lstm, 32, "mps2-an386", samples=4)
