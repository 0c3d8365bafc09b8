"""Write .tflite flatbuffers directly from the schema (the one bundled with tflite-micro).

This gives control the Keras converter does not: ops it never emits (SVDF, see
tinypipe/model/svdf_tflite.py), per-tensor weights, asymmetric zero points, extreme scales, any
fused activation (the op-level tests build their models with it).
"""

from __future__ import annotations

import flatbuffers
import numpy as np

from .graph import schema

_TYPES = {
    "int8": schema.TensorType.INT8,
    "int16": schema.TensorType.INT16,
    "int32": schema.TensorType.INT32,
    "int64": schema.TensorType.INT64,
    "uint8": schema.TensorType.UINT8,
    "uint32": schema.TensorType.UINT32,
    "float32": schema.TensorType.FLOAT32,
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class ModelBuilder:
    """Accumulate tensors and ops, then `build()` a flatbuffer.

    >>> b = ModelBuilder()
    >>> x = b.tensor((1, 4), scale=0.1, zero_point=3)
    >>> y = b.tensor((1, 4), scale=0.1, zero_point=3)
    >>> b.op("RELU", [x], [y])
    >>> model = b.build([x], [y])
    """

    def __init__(self) -> None:
        self.tensors: list = []
        self.buffers: list = [schema.BufferT()]  # buffer 0 is the empty sentinel
        self.opcodes: list[tuple[int, int]] = []
        self.ops: list = []

    def tensor(
        self,
        shape,
        dtype: str = "int8",
        scale=None,
        zero_point=None,
        data: np.ndarray | None = None,
        axis: int = 0,
        name: str | None = None,
        shape_signature=None,
        variable: bool = False,
    ) -> int:
        t = schema.TensorT()
        t.shape = list(int(d) for d in shape)
        if shape_signature is not None:  # -1 marks a dynamic dimension
            t.shapeSignature = list(int(d) for d in shape_signature)
        t.type = _TYPES[dtype]
        t.isVariable = variable  # state an op keeps across calls (LSTM, SVDF)
        t.name = name or f"t{len(self.tensors)}"
        if data is not None:
            buf = schema.BufferT()
            buf.data = np.frombuffer(
                np.ascontiguousarray(data, dtype=dtype).tobytes(), dtype=np.uint8
            )
            self.buffers.append(buf)
            t.buffer = len(self.buffers) - 1
        else:
            t.buffer = 0
        if scale is not None:
            q = schema.QuantizationParametersT()
            q.scale = [float(s) for s in np.atleast_1d(scale)]
            zp = (
                np.zeros(len(q.scale), dtype=np.int64)
                if zero_point is None
                else np.atleast_1d(zero_point)
            )
            q.zeroPoint = [int(z) for z in zp]
            q.quantizedDimension = axis
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(
        self,
        opcode: str,
        inputs,
        outputs,
        options: str | None = None,
        version: int = 1,
        custom_options: bytes | None = None,
        **fields,
    ) -> None:
        """Add an op. `options` names the options table (e.g. "Conv2DOptions"); `fields` are its
        snake_case fields; enum fields accept names ("SAME", "RELU6")."""
        custom = opcode[7:] if opcode.startswith("CUSTOM:") else None  # "CUSTOM:<name>"
        code = schema.BuiltinOperator.CUSTOM if custom else getattr(schema.BuiltinOperator, opcode)
        key = (code, version, custom)
        if key not in self.opcodes:
            self.opcodes.append(key)
        o = schema.OperatorT()
        o.opcodeIndex = self.opcodes.index(key)
        o.inputs = list(inputs)
        o.outputs = list(outputs)
        if custom_options is not None:  # bytes, e.g. a flexbuffer map
            o.customOptions = list(custom_options)
        if options:
            opts = getattr(schema, options + "T")()
            for k, v in fields.items():
                if k == "padding" and isinstance(v, str):
                    v = getattr(schema.Padding, v)
                if k == "fused_activation_function" and isinstance(v, str):
                    v = getattr(schema.ActivationFunctionType, v)
                attr = _camel(k)
                if not hasattr(opts, attr):
                    raise AttributeError(f"{options} has no field {attr}")
                setattr(opts, attr, v)
            o.builtinOptionsType = getattr(schema.BuiltinOptions, options)
            o.builtinOptions = opts
        self.ops.append(o)

    def build(
        self, inputs, outputs, subgraphs: int = 1, description: str = "tinypipe test model"
    ) -> bytes:
        sg = schema.SubGraphT()
        sg.tensors = self.tensors
        sg.operators = self.ops
        sg.inputs = list(inputs)
        sg.outputs = list(outputs)
        sg.name = "main"
        m = schema.ModelT()
        m.version = 3
        m.description = description
        m.subgraphs = [sg] * subgraphs  # extra copies stand in for control-flow bodies
        m.buffers = self.buffers
        codes = []
        for code, version, custom in self.opcodes:
            oc = schema.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = version
            oc.customCode = custom
            codes.append(oc)
        m.operatorCodes = codes
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())
