"""TFLM's own figures on the emulated Cortex-M4F (QEMU mps2-an386), for ratios.

Measured 2026-11-26 with TFLM at commit 90b983c2 (CMSIS-NN 4ab83cc3), arm-none-eabi-gcc 12.2 -O2,
release build with TF_LITE_STATIC_MEMORY; exact guest instructions per Invoke() from a TCG plugin
under -icount shift=0. Same model shapes as tinypipe.model.zoo; weights differ, which moves the counts
by well under 1 % (they depend on shapes, not values).
"""

# model -> MACs, instructions (reference kernels, CMSIS-NN), smallest arena (reference, CMSIS-NN),
# flash of the TFLM runtime + libc without the model (reference, CMSIS-NN)
TFLM_M4 = {
    "digits_cnn": {"macs": 19_776, "instr": (687_460, 185_943), "arena": (3_584, 3_696), "flash": (57_232, 100_760)},
    "ds_cnn": {"macs": 2_656_768, "instr": (43_090_721, 7_701_276), "arena": (22_784, 22_832), "flash": (54_664, 97_488)},
    "mobilenet_v1": {"macs": 7_489_664, "instr": (100_831_885, 24_414_145), "arena": (100_592, 100_640), "flash": (56_200, 98_576)},
    "resnet8": {"macs": 12_501_632, "instr": (107_434_465, 29_858_168), "arena": (54_352, 55_008), "flash": (59_020, 92_356)},
    "fc_autoencoder": {"macs": 264_192, "instr": (1_690_247, 595_804), "arena": (20_096, 20_416), "flash": (34_120, 45_640)},
}
