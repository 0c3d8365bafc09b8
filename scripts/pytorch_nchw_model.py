#!/usr/bin/env python3
"""Make tests/data/pytorch_nchw.tflite: a small PyTorch CNN converted to full int8 by litert-torch.

PyTorch works in NCHW; TFLite kernels work in NHWC, so litert-torch puts a TRANSPOSE
(0, 2, 3, 1) after the int8 input and another before the flatten that feeds the classifier,
which is what every PyTorch-exported vision model carries. The file is checked in, so the test
(tests/test_pytorch_in.py) needs neither torch nor litert-torch; re-run this script to remake it:

    pip install torch==2.13.0 litert-torch     # or: pip install ".[torch]"
    python scripts/pytorch_nchw_model.py -o tests/data/pytorch_nchw.tflite

Quantization: PT2E static, symmetric, per-channel weights, calibrated on 16 normal samples;
random weights from torch.manual_seed(0).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def make_model(seed: int = 0) -> bytes:
    import litert_torch
    import torch
    from litert_torch.quantize.pt2e_quantizer import (
        PT2EQuantizer,
        get_symmetric_quantization_config,
    )
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    class Net(torch.nn.Module):
        """3x8x8 image -> Conv(8, 3x3, same) + ReLU -> MaxPool(2) -> Flatten -> Linear(4)."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.fc = torch.nn.Linear(8 * 4 * 4, 4)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
            return self.fc(torch.flatten(x, 1))

    torch.manual_seed(seed)
    net = Net().eval()
    sample = (torch.randn(1, 3, 8, 8),)
    quantizer = PT2EQuantizer().set_global(
        get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False)
    )
    prepared = prepare_pt2e(torch.export.export(net, sample).module(), quantizer)
    for _ in range(16):  # calibration
        prepared(torch.randn(1, 3, 8, 8))
    converted = convert_pt2e(prepared, fold_quantize=False)
    edge = litert_torch.convert(converted, sample, quant_config=QuantConfig(pt2e_quantizer=quantizer))
    return bytes(edge.model_content())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-o", "--out", type=Path, default=Path("tests/data/pytorch_nchw.tflite"))
    args = ap.parse_args()
    args.out.write_bytes(make_model())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
