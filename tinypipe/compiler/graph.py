"""Read a .tflite flatbuffer into `Graph`, the one IR every later stage consumes.

Only the flatbuffer schema bundled with the tflite-micro wheel is used: no TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinypipe.errors import TinypipeError

from . import verify

try:  # the schema ships inside the tflite-micro wheel
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
except ImportError:  # pragma: no cover - depends on the install
    schema = None

_TFLITE_IDENT = b"TFL3"

_DTYPES = {
    "FLOAT32": np.float32,
    "FLOAT16": np.float16,
    "FLOAT64": np.float64,
    "INT32": np.int32,
    "UINT32": np.uint32,
    "INT64": np.int64,
    "UINT8": np.uint8,
    "INT8": np.int8,
    "INT16": np.int16,
    "UINT16": np.uint16,
    "BOOL": np.bool_,
}


def _enum_names(cls: type) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


@dataclass
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel `axis`."""

    scale: np.ndarray  # float32, 1 entry per tensor or per channel
    zero_point: np.ndarray  # int64
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name: "int8", "int32", "float32", ...
    quant: Quant | None = None
    data: np.ndarray | None = None  # constant contents, already shaped
    shape_signature: tuple[int, ...] | None = None
    is_variable: bool = False

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def scale(self) -> float:
        assert self.quant is not None
        return float(self.quant.scale[0])

    @property
    def zero_point(self) -> int:
        assert self.quant is not None
        return int(self.quant.zero_point[0])


@dataclass
class Operator:
    index: int
    opcode: str  # builtin name, e.g. "CONV_2D"; custom ops are "CUSTOM:<name>"
    version: int
    inputs: list[int]  # -1 marks an omitted optional input
    outputs: list[int]
    options: dict = field(default_factory=dict)
    options_type: str = ""  # the builtin options table the op carries, e.g. "Conv2DOptions"


@dataclass
class Graph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    num_subgraphs: int = 1
    description: str = ""
    model_bytes: bytes = b""
    source: str = ""

    def tensor(self, i: int) -> Tensor:
        return self.tensors[i]

    def op_inputs(self, op: Operator) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def op_outputs(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    @property
    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    @property
    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]

    def distinct_ops(self) -> list[str]:
        """Distinct op names in first-use order."""
        seen: dict[str, None] = {}
        for op in self.operators:
            seen.setdefault(op.opcode, None)
        return list(seen)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", name).lower()


def _options_dict(opts: object) -> dict:
    """Flatten a generated *OptionsT object into a snake_case dict with enum names resolved."""
    if opts is None:
        return {}
    out = {}
    for key, value in vars(opts).items():
        name = _snake(key)
        if name == "fused_activation_function":
            value = _ACTIVATIONS.get(value, str(value))
        elif name == "padding":
            value = _PADDINGS.get(value, str(value))
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        out[name] = value
    return out


if schema is not None:
    _OPNAMES = _enum_names(schema.BuiltinOperator)
    _TYPENAMES = _enum_names(schema.TensorType)
    _ACTIVATIONS = _enum_names(schema.ActivationFunctionType)
    _PADDINGS = _enum_names(schema.Padding)
    _OPTION_TYPES = _enum_names(schema.BuiltinOptions)
    _TYPE_SIZES = {
        code: np.dtype(_DTYPES[name]).itemsize
        for code, name in _TYPENAMES.items()
        if name in _DTYPES
    }
    # INT4: packed weights, read as int8 values (_unpack_int4); 0 tells verify to size them packed
    _TYPE_SIZES.update({code: 0 for code, name in _TYPENAMES.items() if name == "INT4"})


def _not_tflite(where: str, detail: str) -> TinypipeError:
    return TinypipeError(
        f"{where} is not a readable TFLite model ({detail}).",
        "Pass a .tflite flatbuffer written by the TFLite converter "
        "(for example from `tinypipe quantize`); re-export it if the file was cut short.",
    )


def read_tflite(model: str | Path | bytes) -> Graph:
    """Parse a .tflite file (path or bytes) into a Graph. Raises TinypipeError on bad input."""
    if isinstance(model, (bytes, bytearray)):
        raw, where = bytes(model), "the model bytes"
    else:
        path = Path(model)
        where = f"'{path}'"
        if not path.exists():
            raise TinypipeError(
                f"Model file {where} does not exist.",
                "Check the path, or create it with `tinypipe quantize`.",
            )
        if path.is_dir():
            raise TinypipeError(
                f"{where} is a directory, not a .tflite file.", "Pass the model file itself."
            )
        raw = path.read_bytes()
    if len(raw) < 16 or raw[4:8] != _TFLITE_IDENT:
        raise _not_tflite(where, "no TFL3 flatbuffer identifier in its first 8 bytes")
    try:
        m = schema.ModelT.InitFromPackedBuf(bytearray(raw), 0)
        verify.check_flatbuffer(m, raw, where, _TYPE_SIZES)
        graph = _to_graph(m, raw)
    except TinypipeError:
        raise
    except Exception as exc:  # any flatbuffer decoding failure means a damaged file
        raise _not_tflite(
            where, f"the flatbuffer is damaged or truncated: {type(exc).__name__}"
        ) from None
    graph.source = where
    verify.check_graph(graph, where)
    return graph


def _buffer_bytes(m, raw: bytes, index: int) -> bytes | None:
    if index <= 0 or index >= len(m.buffers or []):
        return None
    buf = m.buffers[index]
    if buf.offset and buf.offset > 1:  # large models keep buffers after the flatbuffer
        end = buf.offset + buf.size
        if end > len(raw):
            raise ValueError("buffer beyond end of file")
        return raw[buf.offset : end]
    if buf.data is None or len(buf.data) == 0:
        return None
    return np.asarray(buf.data, dtype=np.uint8).tobytes()


_MAX_NAME = 256


def _text(value: bytes | str | None) -> str:
    """A flatbuffer string as printable text: names are free-form bytes from an untrusted file and
    end up in messages, so control characters are escaped and the length is bounded."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in (value or "")[: _MAX_NAME * 4])
    return text if len(text) <= _MAX_NAME else text[: _MAX_NAME - 3] + "..."


def _unpack_int4(content: bytes, shape: tuple[int, ...], index: int) -> np.ndarray:
    n = int(np.prod(shape, dtype=np.int64))
    if len(content) != (n + 1) // 2:
        raise ValueError(f"tensor {index} buffer size mismatch")
    packed = np.frombuffer(content, dtype=np.uint8)
    nibbles = np.stack([packed & 15, packed >> 4], axis=1).ravel()[:n].astype(np.int8)
    return np.where(nibbles > 7, nibbles - 16, nibbles).astype(np.int8).reshape(shape)


def _to_graph(m, raw: bytes) -> Graph:
    if not m.subgraphs:
        raise ValueError("no subgraphs")
    sg = m.subgraphs[0]
    tensors = []
    for i, t in enumerate(sg.tensors or []):
        type_name = _TYPENAMES.get(t.type, f"TYPE_{t.type}")
        np_dtype = _DTYPES.get(type_name)
        dtype = np.dtype(np_dtype).name if np_dtype is not None else type_name.lower()
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        sig = tuple(int(d) for d in t.shapeSignature) if t.shapeSignature is not None else None
        quant = None
        q = t.quantization
        if q is not None and q.scale is not None and len(q.scale) > 0:
            zp = q.zeroPoint if q.zeroPoint is not None else [0] * len(q.scale)
            quant = Quant(
                scale=np.asarray(q.scale, dtype=np.float32),
                zero_point=np.asarray(zp, dtype=np.int64),
                axis=int(q.quantizedDimension),
            )
        data = None
        content = _buffer_bytes(m, raw, t.buffer)
        if type_name == "INT4" and content is not None:
            # Packed 4-bit weights (two per byte, low nibble first): read as their int8 values;
            # the compiler stores them packed again (ops/packed.py).
            data, dtype = _unpack_int4(content, shape, i), "int8"
        elif content is not None and np_dtype is not None:
            arr = np.frombuffer(content, dtype=np_dtype)
            if arr.size != int(np.prod(shape, dtype=np.int64)):
                raise ValueError(f"tensor {i} buffer size mismatch")
            data = arr.reshape(shape).copy()
        name = _text(t.name) or f"t{i}"
        tensors.append(Tensor(i, name, shape, dtype, quant, data, sig, bool(t.isVariable)))

    ops = []
    for k, o in enumerate(sg.operators or []):
        code = m.operatorCodes[o.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        opname = _OPNAMES.get(builtin, f"BUILTIN_{builtin}")
        if opname == "CUSTOM":
            opname = f"CUSTOM:{_text(code.customCode)}"
        ops.append(
            Operator(
                index=k,
                opcode=opname,
                version=int(code.version or 1),
                inputs=[int(x) for x in (o.inputs if o.inputs is not None else [])],
                outputs=[int(x) for x in (o.outputs if o.outputs is not None else [])],
                options=_options_dict(o.builtinOptions),
                options_type=_OPTION_TYPES.get(o.builtinOptionsType, "")
                if o.builtinOptions is not None
                else "",
            )
        )
    desc = _text(m.description)
    return Graph(
        tensors=tensors,
        operators=ops,
        inputs=[int(x) for x in sg.inputs],
        outputs=[int(x) for x in sg.outputs],
        num_subgraphs=len(m.subgraphs),
        description=desc,
        model_bytes=raw,
    )
