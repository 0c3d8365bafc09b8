"""Structured pruning: remove the least important filters / units and rebuild a smaller dense model.

A Conv1D/Conv2D/Dense layer can lose output channels when everything its output reaches, up to
the next Conv/Dense layers, works channel by channel (batch norm, activations, pooling,
depthwise conv, flatten): those layers shrink with it and the next layers lose the matching
input rows. Layers that feed an Add/Concatenate, a reshape or the model's output keep all their
channels. Importance is the L1 norm of a channel's filter (times |gamma| of a batch norm right
after it). The result is an ordinary Keras model with fewer filters: fewer MACs, fewer weight
bytes and smaller activations, with no sparse formats involved.
"""

from __future__ import annotations

import numpy as np

_PRUNABLE = ("Conv1D", "Conv2D", "Dense")
# Layers that map channel c of their input to channel c of their output (depthwise: multiplier 1).
_CHANNELWISE = {
    "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Dropout", "MaxPooling1D",
    "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "ZeroPadding1D",
    "ZeroPadding2D", "DepthwiseConv2D", "Flatten",
}  # fmt: skip


def _kind(layer) -> str:
    return type(layer).__name__


def _consumers(model) -> dict[str, list]:
    """layer name -> the layers that take its output."""
    out: dict[str, list] = {layer.name: [] for layer in model.layers}
    for layer in model.layers:
        for node in layer._inbound_nodes:
            for t in node.input_tensors:
                src = t._keras_history.operation
                out[src.name].append(layer)
    return out


def _reaches_only_channelwise(layer, consumers, outputs: set[str]) -> bool:
    """Whether `layer`'s channels flow only through channel-wise layers into Conv/Dense inputs."""
    stack = [layer]
    while stack:
        cur = stack.pop()
        if cur.name in outputs:
            return False
        for nxt in consumers[cur.name]:
            kind = _kind(nxt)
            if kind in _PRUNABLE:
                continue
            if kind not in _CHANNELWISE:
                return False
            if kind == "DepthwiseConv2D" and nxt.depth_multiplier != 1:
                return False
            if kind == "Flatten" and consumers[nxt.name] and any(
                _kind(c) != "Dense" for c in consumers[nxt.name]
            ):
                return False
            stack.append(nxt)
    return True


def prunable_layers(model) -> list[str]:
    """Names of the Conv/Dense layers whose output channels can be removed."""
    consumers = _consumers(model)
    outputs = {t._keras_history.operation.name for t in model.outputs}
    return [
        layer.name
        for layer in model.layers
        if _kind(layer) in _PRUNABLE
        and getattr(layer, "groups", 1) == 1
        and _reaches_only_channelwise(layer, consumers, outputs)
    ]


def _importance(layer, consumers) -> np.ndarray:
    kernel = layer.get_weights()[0]
    score = np.abs(kernel).reshape(-1, kernel.shape[-1]).sum(axis=0)
    after = consumers[layer.name]
    if len(after) == 1 and _kind(after[0]) == "BatchNormalization" and after[0].scale:
        score = score * np.abs(after[0].get_weights()[0])
    return score


def prune_model(model, fraction: float):
    """A copy of `model` with `fraction` of the channels of every prunable layer removed (the
    least important ones, at least one kept), weights carried over. Returns (model, kept), kept
    mapping each pruned layer to the channel indices it kept."""
    consumers = _consumers(model)
    kept: dict[str, np.ndarray] = {}
    for name in prunable_layers(model):
        layer = model.get_layer(name)
        score = _importance(layer, consumers)
        keep = max(1, int(round(len(score) * (1.0 - fraction))))
        if keep < len(score):
            kept[name] = np.sort(np.argsort(-score, kind="stable")[:keep])
    config = model.get_config()
    for spec in config["layers"]:
        spec.pop("build_config", None)  # recorded input shapes would be the unpruned ones
        name = spec["config"]["name"]
        if name in kept:
            field = "units" if spec["class_name"] == "Dense" else "filters"
            spec["config"][field] = int(len(kept[name]))
    smaller = model.__class__.from_config(config)
    # Propagate the kept channels forward (layers are in topological order) and copy weights.
    channels: dict[str, np.ndarray | None] = {}
    for old, new in zip(model.layers, smaller.layers):
        inbound = [t._keras_history.operation.name for n in old._inbound_nodes for t in n.input_tensors]
        in_keep = channels.get(inbound[0]) if len(inbound) == 1 else None
        kind = _kind(old)
        if kind == "Flatten" and in_keep is not None:
            shape = tuple(old.input.shape[1:])
            flat = np.arange(int(np.prod(shape))).reshape(shape)[..., in_keep].ravel()
            channels[old.name] = flat
        elif kind in _PRUNABLE:
            channels[old.name] = kept.get(old.name)
        elif kind in _CHANNELWISE:
            channels[old.name] = in_keep
        else:
            channels[old.name] = None
        weights = old.get_weights()
        if not weights:
            continue
        out_keep = channels[old.name]
        if kind in _PRUNABLE:
            if in_keep is not None:
                weights[0] = np.take(weights[0], in_keep, axis=-2)
            if out_keep is not None:
                weights = [np.take(w, out_keep, axis=-1) for w in weights]
        elif kind == "DepthwiseConv2D" and in_keep is not None:
            weights[0] = np.take(weights[0], in_keep, axis=-2)
            weights[1:] = [np.take(w, in_keep, axis=-1) for w in weights[1:]]
        elif kind == "BatchNormalization" and in_keep is not None:
            weights = [np.take(w, in_keep, axis=-1) for w in weights]
        new.set_weights(weights)
    return smaller, kept
