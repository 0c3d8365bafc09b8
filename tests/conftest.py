"""Shared fixtures: int8 models made by the real TF converter, cached for the session."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    """This run's folder, shared by its xdist workers (each worker's basetemp lies inside it):
    a cache kept here never outlives the run."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if root.name.startswith("popen-gw") else root


@pytest.fixture(scope="session", autouse=True)
def object_cache(run_dir) -> Path:
    """One compiled-object cache for the run (shared by the xdist workers): hundreds of host
    and firmware builds compile the same runtime kernels with the same flags."""
    from tinypipe.device.hostrun import OBJECT_CACHE_ENV

    cache = run_dir / "objects"
    os.environ[OBJECT_CACHE_ENV] = str(cache)
    if shutil.which("ccache"):  # the same for firmware built by PlatformIO
        os.environ["TINYPIPE_CC_LAUNCHER"] = "ccache"
        os.environ["CCACHE_DIR"] = str(run_dir / "ccache")
    return cache


@pytest.fixture(scope="session")
def zoo_model(run_dir):
    """zoo_model(name, **kw) -> Path of an int8 .tflite of that zoo model (random weights),
    converted once per run: the xdist workers share the files (the conversion is deterministic)."""
    root = run_dir / "zoo"
    root.mkdir(exist_ok=True)

    def make(name: str, **kw) -> Path:
        key = hashlib.sha256(repr((name, sorted(kw.items()))).encode()).hexdigest()[:16]
        path = root / f"{name}-{key}.tflite"
        with open(root / f"{name}-{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one worker converts, the others wait for it
            if not path.exists():
                from tinypipe.model.zoo import make_int8_model

                tmp = path.with_suffix(".part")
                tmp.write_bytes(make_int8_model(name, **kw))
                os.replace(tmp, path)
        return path

    return make


@pytest.fixture(scope="session")
def digits_tflite(zoo_model) -> Path:
    """The digits CNN shape (8x8x1 -> 10 classes), int8."""
    return zoo_model("tiny_cnn", input_shape=(8, 8, 1), num_classes=10)


@pytest.fixture(scope="session")
def float_tflite() -> Path:
    """A float model made elsewhere: the sine example shipped in the tflite-micro wheel."""
    import tflite_micro

    return Path(tflite_micro.__file__).parent / "python" / "tflite_micro" / "sine_float.tflite"


def random_int8(shape, n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, size=(n, *shape), dtype=np.int8)


# The quick loop (`bash scripts/test.sh --quick`, i.e. `pytest -m "not slow"`) leaves out the
# tests marked slow where they are written plus these, the longest of the rest by
# `pytest --durations=0` (big zoo models, training runs, repeated random configurations); every
# test module keeps its shorter tests in the quick loop.
QUICK_LEAVES_OUT = {
    "tests/test_zoo.py::test_zoo_model_converts_to_supported_int8_ops[mobilenet_v1]",
    "tests/test_zoo.py::test_zoo_model_converts_to_supported_int8_ops[resnet8]",
    "tests/test_zoo.py::test_zoo_model_converts_to_supported_int8_ops[fc_autoencoder]",
    "tests/test_zoo.py::test_zoo_model_converts_to_supported_int8_ops[ds_cnn]",
    "tests/test_zoo.py::test_conversion_is_deterministic",
    "tests/test_train.py::test_autoencoder_trains_and_quantizes",
    "tests/test_train.py::test_training_is_reproducible",
    "tests/test_train.py::test_vibration_conv1d_train_and_quantize",
    "tests/test_train.py::test_quantize_with_explicit_npz_dataset",
    "tests/test_kernels_on_m4.py::test_ds_cnn_on_m4_bit_exact",
    "tests/test_dynamic_batch.py::test_keras_model_without_batch_size",
    "tests/test_op_conv.py::test_conv_random_configs_bit_exact[1]",
    "tests/test_op_conv.py::test_conv_random_configs_bit_exact[2]",
    "tests/test_op_depthwise_conv.py::test_depthwise_random_configs_bit_exact[1]",
    "tests/test_op_depthwise_conv.py::test_depthwise_random_configs_bit_exact[2]",
    "tests/test_op_add.py::test_add_random_configs_bit_exact[1]",
    "tests/test_op_add.py::test_add_random_configs_bit_exact[2]",
    "tests/test_op_pad.py::test_pad_random_configs_bit_exact[1]",
    "tests/test_op_mul.py::test_mul_random_configs_bit_exact[1]",
    "tests/test_op_mul.py::test_mul_random_configs_bit_exact[2]",
    "tests/test_op_pooling.py::test_pool_random_configs_bit_exact[1-MAX_POOL_2D]",
    "tests/test_op_pooling.py::test_pool_random_configs_bit_exact[1-AVERAGE_POOL_2D]",
    "tests/test_op_fully_connected.py::test_fc_random_configs_bit_exact[1]",
    "tests/test_op_fully_connected.py::test_fc_random_configs_bit_exact[2]",
    "tests/test_op_concatenation.py::test_concatenation_random_configs_bit_exact[1]",
    "tests/test_op_elementwise.py::test_squared_difference_random_configs_bit_exact[1]",
    "tests/test_op_w4.py::test_w4_random_configs_bit_exact[FULLY_CONNECTED]",
    "tests/test_cli_errors.py::test_truncated_model[16]",
    # the heaviest sanitized model checks and repeated random chunks (pytest --durations)
    "tests/test_published_standins.py::test_standin_bit_exact_on_host[mobilenet_v1]",
    "tests/test_arena_check.py::test_mlperf_models_keep_to_their_plan_at_run_time[ds_cnn]",
    "tests/test_fusion.py::test_pointwise_depthwise_fused_bit_exact[3-1]",
    "tests/test_fusion.py::test_pointwise_depthwise_fused_bit_exact[3-2]",
    "tests/test_arena_check.py::test_mlperf_models_keep_to_their_plan_at_run_time[resnet8]",
    "tests/test_fusion.py::test_pointwise_depthwise_fused_bit_exact[5-2]",
    "tests/test_op_depthwise_conv.py::test_depthwise_random_configs_bit_exact[0]",
    "tests/test_fusion.py::test_residual_block_fused_bit_exact[1]",
    "tests/test_fusion.py::test_residual_block_fused_bit_exact[3]",
    "tests/test_op_w4.py::test_w4_random_configs_bit_exact[CONV_2D]",
    "tests/test_kernels_on_m55.py::test_depthwise_w16_helium_random_configs",
    "tests/test_inplace.py::test_inplace_conv_random_bit_exact[1]",
    "tests/test_inplace.py::test_inplace_conv_random_bit_exact[0]",
    "tests/test_fusion.py::test_residual_block_fused_bit_exact[2]",
    "tests/test_fusion.py::test_residual_block_fused_bit_exact[0]",
    "tests/test_inplace.py::test_inplace_depthwise_random_bit_exact[1]",
    "tests/test_published_standins.py::test_standin_bit_exact_on_host[resnet8]",
    "tests/test_published_standins.py::test_standin_bit_exact_on_host[ds_cnn]",
    "tests/test_models.py::test_generated_c_is_clean_under_sanitizers[fc_autoencoder]",
    "tests/test_arena_check.py::test_mlperf_models_keep_to_their_plan_at_run_time[fc_autoencoder]",
    "tests/test_published_standins.py::test_standin_bit_exact_on_host[fc_autoencoder]",
    "tests/test_inplace.py::test_plan_proof_on_reference_models[ds_cnn]",
    "tests/test_inplace.py::test_inplace_depthwise_random_bit_exact[0]",
    "tests/test_op_add.py::test_add_random_configs_bit_exact[0]",
    "tests/test_fusion.py::test_resnet8_fused_needs_half_of_tflm_arena",
    "tests/test_op_conv.py::test_conv_w16_random_configs_bit_exact[1]",
    "tests/test_op_conv.py::test_conv_w16_random_configs_bit_exact[0]",
    "tests/test_arena_check.py::test_free_bytes_hold_canaries_between_layers",
    "tests/test_op_depthwise_conv.py::test_depthwise_w16_random_configs_bit_exact[1]",
    "tests/test_op_depthwise_conv.py::test_depthwise_w16_random_configs_bit_exact[0]",
    "tests/test_board_m55.py::test_m55_is_bit_exact_and_counts_instructions[ds_cnn]",
    "tests/test_op_add.py::test_add_lut_random_configs_bit_exact[1]",
    "tests/fuzz/test_fuzz.py::test_fixed_seed_campaign[1]",
    "tests/test_op_elementwise.py::test_sub_random_configs_bit_exact[0]",
    "tests/test_op_lstm.py::test_lstm_random_bit_exact[0]",
    "tests/test_models.py::test_generated_c_is_clean_under_sanitizers[digits_cnn]",
    "tests/test_op_pooling.py::test_pool_random_configs_bit_exact[0-MAX_POOL_2D]",
    "tests/test_inplace.py::test_plan_proof_on_reference_models[resnet8]",
    "tests/test_models.py::test_litert_without_delegates_agrees[ds_cnn]",
    "tests/test_published_standins.py::test_standin_bit_exact_on_m4[fc_autoencoder]",
    # QEMU runs: the quick loop keeps one case per kernel family on the Cortex-M4 and M55
    "tests/test_kernels_on_m4.py::test_conv_on_m4_bit_exact[conv_grouped_dilated]",
    "tests/test_kernels_on_m4.py::test_conv_on_m4_bit_exact[conv_pointwise_valid]",
    "tests/test_kernels_on_m4.py::test_conv_on_m4_bit_exact[conv_same_odd]",
    "tests/test_kernels_on_m4.py::test_conv_on_m4_bit_exact[conv_stride2_short_rows]",
    "tests/test_kernels_on_m4.py::test_conv_on_m4_bit_exact[conv_w16_first_layer]",
    "tests/test_kernels_on_m4.py::test_conv_on_m4_bit_exact[conv_w16_rgb_padded]",
    "tests/test_kernels_on_m4.py::test_depthwise_on_m4_bit_exact[dw_huge_window]",
    "tests/test_kernels_on_m4.py::test_depthwise_on_m4_bit_exact[dw_mult2_valid]",
    "tests/test_kernels_on_m4.py::test_depthwise_on_m4_bit_exact[dw_same_stride2]",
    "tests/test_kernels_on_m4.py::test_depthwise_on_m4_bit_exact[dw_w16_2x5_stride2]",
    "tests/test_kernels_on_m4.py::test_fully_connected_on_m4_bit_exact[fc_odd]",
    "tests/test_kernels_on_m4.py::test_fully_connected_on_m4_bit_exact[fc_weight_zp]",
    "tests/test_kernels_on_m4.py::test_generated_fully_connected_on_m4_bit_exact[700]",
    "tests/test_kernels_on_m4.py::test_generated_fully_connected_on_m4_bit_exact[701]",
    "tests/test_kernels_on_m4.py::test_generated_fully_connected_on_m4_bit_exact[704]",
    "tests/test_kernels_on_m4.py::test_generated_pointwise_on_m4_bit_exact[501]",
    "tests/test_kernels_on_m4.py::test_generated_pointwise_on_m4_bit_exact[503]",
    "tests/test_kernels_on_m4.py::test_generated_pointwise_on_m4_bit_exact[508]",
    "tests/test_kernels_on_m4.py::test_generated_pointwise_on_m4_bit_exact[522]",
    "tests/test_lstm_converter.py::test_keras_lstm_bit_exact_on_m4",
    "tests/test_published_standins.py::test_standin_bit_exact_on_m4[ds_cnn]",
    "tests/test_inplace.py::test_inplace_timeline_report",
    "tests/test_kernels_on_m55.py::test_fully_connected_x4_helium_random_configs",
    "tests/test_arena_check.py::test_a_read_outside_the_plan_fails_under_asan",
    "tests/test_zoo.py::test_zoo_model_converts_to_supported_int8_ops[lstm]",
    "tests/test_patches.py::test_run_takes_max_recompute_from_the_config",
    "tests/test_patches.py::test_tiny_cnn_patched_on_m4",
    "tests/test_fusion.py::test_residual_block_fused_on_m4",
    "tests/test_op_quantize.py::test_dequantize_int8_to_float_bit_exact",
    # the per-op QEMU cases (their host cases stay), training runs, repeated firmware builds
    "tests/test_op_mul_s16.py::test_mul_s16_on_m4_bit_exact",
    "tests/test_op_svdf.py::test_svdf_on_m4_bit_exact",
    "tests/test_op_lstm.py::test_lstm_16x8_on_m4_bit_exact",
    "tests/test_op_transpose_conv_s16.py::test_transpose_conv_s16_on_m4_bit_exact",
    "tests/test_op_mirror_pad.py::test_mirror_pad_on_m4_bit_exact",
    "tests/test_svdf_model.py::test_written_model_bit_exact_on_m4",
    "tests/test_multi_io.py::test_builder_model_bit_exact_on_m4",
    "tests/test_pytorch_in.py::test_pytorch_model_bit_exact_on_m4",
    "tests/test_firmware.py::test_flash_dry_run_prints_the_command",
    "tests/test_firmware.py::test_copied_project_builds_with_its_own_platform",
    "tests/test_firmware.py::test_compiler_launcher_goes_before_every_c_compile",
    "tests/test_library.py::test_platformio_project_uses_the_library_offline",
    "tests/test_train.py::test_train_writes_a_batch1_model_and_metadata",
    "tests/test_train.py::test_digits_int8_accuracy_with_tflm_via_cli",
    "tests/test_train.py::test_max_drop_gate_fails_and_writes_nothing",
    "tests/test_train.py::test_cli_train_picks_a_model_for_the_data",
    "tests/test_patches.py::test_tiny_cnn_patched_within_default_bound",
    "tests/test_op_softmax.py::test_random_softmax_bit_exact",
}


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if item.nodeid in QUICK_LEAVES_OUT:
            item.add_marker(pytest.mark.slow)
