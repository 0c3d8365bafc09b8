"""Custom ops found in real .tflite files: TFLM's own (the Signal library for audio front ends,
and a few more), and the single op Vela leaves in a model it compiled for an Ethos-U NPU."""

from __future__ import annotations

from tinypipe.errors import UnsupportedModelError

from .graph import Graph

# Custom op name in the flatbuffer -> the MicroMutableOpResolver method that registers it.
TFLM_CUSTOM_OPS: dict[str, str] = {
    "SignalWindow": "AddWindow",
    "SignalFftAutoScale": "AddFftAutoScale",
    "SignalRfft": "AddRfft",
    "SignalIrfft": "AddIrfft",
    "SignalEnergy": "AddEnergy",
    "SignalFilterBank": "AddFilterBank",
    "SignalFilterBankSquareRoot": "AddFilterBankSquareRoot",
    "SignalFilterBankSpectralSubtraction": "AddFilterBankSpectralSubtraction",
    "SignalFilterBankLog": "AddFilterBankLog",
    "SignalPCAN": "AddPCAN",
    "SignalFramer": "AddFramer",
    "SignalOverlapAdd": "AddOverlapAdd",
    "SignalStacker": "AddStacker",
    "SignalDelay": "AddDelay",
    "CIRCULAR_BUFFER": "AddCircularBuffer",
    "TFLite_Detection_PostProcess": "AddDetectionPostprocess",
}

ETHOS_U = "CUSTOM:ethos-u"


def vela_refusal(graph: Graph) -> UnsupportedModelError | None:
    """The error for a model Vela compiled for an Ethos-U NPU, None for any other model."""
    npu = [op for op in graph.operators if op.opcode == ETHOS_U]
    if not npu:
        return None
    return UnsupportedModelError(
        f"{graph.source or 'The model'} was compiled by Vela for an Arm Ethos-U NPU: operator "
        f"#{npu[0].index} {ETHOS_U} holds the NPU's command stream for the layers Vela moved "
        "there, which only an Ethos-U with its driver runs (not tinypipe's C, not the TFLM "
        "interpreter on a plain Cortex-M).",
        "Give tinypipe the model before Vela: the int8 .tflite you passed to `vela` "
        "(`tinypipe npu` estimates the NPU from that same file).",
    )
