"""Knowledge distillation: train a student on its labels and on a teacher's softened outputs.

loss = (1 - weight) * CE(labels, p_student) + weight * T^2 * KL(softmax(z_t / T) || softmax(z_s / T))

with z the logits (Hinton et al.). tinypipe's classifiers end in a Softmax, so logits are
recovered as log-probabilities, which softmax(. / T) treats the same (they differ from the
logits by a constant per sample). T^2 keeps the soft term's gradients on the scale of the
hard one as T grows.
"""

from __future__ import annotations

import numpy as np

from .zoo import import_keras

EPS = 1e-7


def teacher_logits(teacher, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The teacher's log-probabilities for `x`, computed once before training."""
    probs = np.concatenate(
        [np.asarray(teacher(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    )
    return np.log(np.clip(probs.reshape(len(x), -1), EPS, 1.0)).astype(np.float32)


def distill_targets(y: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Training targets for `distillation_loss`: one-hot labels next to the teacher's logits."""
    classes = logits.shape[1]
    onehot = np.eye(classes, dtype=np.float32)[y]
    return np.concatenate([onehot, logits], axis=1)


def distillation_loss(classes: int, temperature: float, weight: float):
    """A Keras loss on (distill_targets, student probabilities)."""
    ops = import_keras().ops

    def loss(targets, probs):
        onehot, t_logits = targets[:, :classes], targets[:, classes:]
        log_p = ops.log(ops.clip(probs, EPS, 1.0))
        hard = -ops.sum(onehot * log_p, axis=-1)
        t_soft = ops.softmax(t_logits / temperature, axis=-1)
        s_log_soft = ops.log_softmax(log_p / temperature, axis=-1)
        kl = ops.sum(t_soft * (ops.log(ops.clip(t_soft, EPS, 1.0)) - s_log_soft), axis=-1)
        return (1.0 - weight) * hard + weight * temperature**2 * kl

    return loss
