"""The `tinypipe` command line: a thin click layer over the Python API.

Every command turns a `TinypipeError` into a one-paragraph message and exit status 2.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from .errors import TinypipeError


def _friendly(fn):
    """Report user errors as one clear paragraph (exit 2) instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TinypipeError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def _max_recompute_option(prefix: str = ""):
    """--max-recompute, in percent (the API takes a fraction); `prefix` leads the help text."""
    return click.option(
        "--max-recompute",
        type=click.FloatRange(0, 100),
        default=10.0,  # compiler.patches.DEFAULT_MAX_RECOMPUTE, in percent
        show_default=True,
        help=f"{prefix}Run the first layers patch by patch when that needs less RAM, adding at most "
        "this percent of the model's MACs (the patches' halo computed again); 0: never.",
    )


def _flash_budget_option(prefix: str = "", default: str = "the board's flash"):
    """--flash-budget: bytes, or with K / M (1024, 1024 K); `prefix` leads the help text."""

    def parse(ctx, param, value):
        if value is None:
            return None
        from .compiler.flash_budget import parse_flash_budget

        try:
            return parse_flash_budget(value)
        except TinypipeError as exc:
            raise click.BadParameter(exc.message) from None

    return click.option(
        "--flash-budget",
        default=None,
        callback=parse,
        metavar="BYTES",
        help=f"{prefix}Flash the firmware may take (weights + code estimate), e.g. 300000, 300K, "
        f"1M; convolutions keep int8 instead of int16 weights until it fits. Default: {default}.",
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tinypipe")
def main() -> None:
    """tinypipe: tiny neural networks onto microcontrollers, bit-exact with TFLM.

    \b
    Stages:  train -> quantize -> inspect -> export -> firmware -> build -> flash -> validate
    One shot: tinypipe run examples/digits/tinypipe.toml
    """


# ---------------------------------------------------------------- train / quantize


@main.command()
@click.option(
    "--dataset",
    required=True,
    help="digits, vibration, or a .npz (arrays x, y) / .csv (label in the last column) file.",
)
@click.option(
    "--model",
    "model_name",
    default=None,
    help="Zoo model: tiny_cnn, conv1d, mlp, lstm, svdf, ds_cnn, mobilenet_v1, resnet8, "
    "fc_autoencoder. "
    "Default: chosen from the data's shape.",
)
@click.option(
    "-o", "--output", "out", type=click.Path(path_type=Path), required=True, help="Output folder."
)
@click.option(
    "--epochs", type=click.IntRange(1), default=None, help="Training epochs (default per model)."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed for the split, init and shuffling."
)
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True)
@click.option("--force", is_flag=True, help="Write into a non-empty output folder.")
@_friendly
def train(
    dataset: str,
    model_name: str | None,
    out: Path,
    epochs: int | None,
    seed: int,
    batch_size: int,
    force: bool,
) -> None:
    """Train a zoo model and save model.keras (batch size 1) and model.json.

    The same --seed gives the same split and the same weights.

    \b
    Example:
      tinypipe train --dataset digits --model tiny_cnn -o runs/digits
      tinypipe train --dataset vibration --model conv1d -o runs/vib --epochs 10
      tinypipe train --dataset mydata.npz -o runs/mine --seed 3
    """
    from .model.train import check_output_dir, train_model

    check_output_dir(out, force)  # before loading data or TensorFlow
    if model_name is None:
        from .model.datasets import load_dataset
        from .model.zoo import suggest_model

        data = load_dataset(dataset, seed=seed)
        model_name = suggest_model(data.input_shape)
        click.echo(f"Using model {model_name} for input shape {data.input_shape}")
        dataset = data
    train_model(
        dataset,
        model_name,
        out,
        epochs=epochs,
        seed=seed,
        batch_size=batch_size,
        force=force,
        log=click.echo,
    )


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output .tflite file. Default: beside MODEL with the .tflite suffix.",
)
@click.option(
    "--dataset",
    default=None,
    help="Calibration/test data. Default: the one in model.json beside MODEL.",
)
@click.option(
    "--max-drop",
    type=float,
    default=None,
    help="Fail (exit 1, nothing written) if int8 accuracy is more than this many percentage points below float.",
)
@click.option(
    "--samples",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Representative (calibration) samples.",
)
@click.option(
    "--activations",
    type=click.Choice(["int8", "int16"]),
    default="int8",
    show_default=True,
    help="Activation type: int8, or int16 for 16x8 (int16 activations, int8 weights; "
    "more precise, for audio and sensor models).",
)
@_friendly
def quantize(
    model: Path,
    out: Path | None,
    dataset: str | None,
    max_drop: float | None,
    samples: int,
    activations: str,
) -> None:
    """Quantize a Keras model to a full-int8 .tflite; report float and int8 (TFLM) accuracy.

    Writes the .tflite and a quant.json report beside it. With --activations int16 the model is
    quantized 16x8 (the converter's int16-activation mode) and its accuracy is reported likewise.

    \b
    Example:
      tinypipe quantize runs/digits/model.keras -o runs/digits/model.tflite
      tinypipe quantize runs/digits/model.keras -o runs/digits/model.tflite --max-drop 2.0
      tinypipe quantize my.keras -o my.tflite --dataset mydata.npz
      tinypipe quantize runs/vib/model.keras -o runs/vib/model16.tflite --activations int16
    """
    from .model.quantize import quantize_model

    quantize_model(
        model,
        out,
        dataset=dataset,
        max_drop=max_drop,
        representative_samples=samples,
        log=click.echo,
        activations=activations,
    )


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder: model.tflite, model.keras, optimize.json.")
@click.option("--dataset", default=None,
              help="Training/test data. Default: the one in model.json beside MODEL.")
@click.option("--qat", is_flag=True, help="Quantization-aware fine-tuning (int8 fake quantization).")
@click.option("--prune", type=float, default=0.0, show_default=True,
              help="Remove this fraction of the channels of every prunable conv/dense layer.")
@click.option("--cluster", type=int, default=0, show_default=True,
              help="Cluster each conv/dense layer to at most this many int8 values (2..16): "
              "the compiled C stores them as 4-bit indices.")
@click.option("--distill-from", type=click.Path(path_type=Path), default=None,
              help="Teacher .keras: every fine-tuning also learns its softened outputs.")
@click.option("--distill-inputs", type=click.Path(path_type=Path), default=None,
              help="Unlabelled inputs (.npy, or a .npz array `x`, shaped like the dataset's "
              "samples) that the teacher labels: the student also learns its outputs on them.")
@click.option("--temperature", type=float, default=4.0, show_default=True,
              help="Distillation temperature.")
@click.option("--distill-weight", type=float, default=0.7, show_default=True,
              help="Weight of the teacher's soft targets in the loss (0..1).")
@click.option("--epochs", type=int, default=5, show_default=True,
              help="Fine-tuning epochs per step.")
@click.option("--learning-rate", type=float, default=2e-3, show_default=True)
@click.option("--board", "boards", multiple=True,
              help="Also build and run every step on this board: flash, RAM, instructions, "
              "bit-exactness (repeatable).")
@click.option("--force", is_flag=True, help="Overwrite a non-empty output folder.")
@_friendly
def optimize(model: Path, out: Path, dataset: str | None, qat: bool, prune: float,
             cluster: int, distill_from: Path | None, distill_inputs: Path | None,
             temperature: float, distill_weight: float, epochs: int, learning_rate: float,
             boards: tuple[str, ...], force: bool) -> None:  # fmt: skip
    """Make a trained Keras model lighter (pruning, clustering, QAT, distillation), then int8.

    After each step the int8 model's TFLM accuracy, MACs, compiled weight bytes and arena
    are printed and written to optimize.json, next to the baseline (plain int8 of MODEL).

    \b
    Example:
      tinypipe optimize runs/digits/model.keras -o runs/digits/opt --prune 0.5 --cluster 16
      tinypipe optimize small.keras -o runs/kd --distill-from big.keras --temperature 4
      tinypipe optimize small.keras -o runs/kd --distill-from big.keras \\
          --distill-inputs unlabelled.npy
      tinypipe optimize model.keras -o runs/qat --qat --board mps2-an386
    """
    from .model.optimize import OptimizeOptions, optimize_model

    opts = OptimizeOptions(
        qat=qat, prune=prune, cluster=cluster, distill_from=distill_from,
        distill_inputs=distill_inputs, temperature=temperature, distill_weight=distill_weight,
        epochs=epochs, learning_rate=learning_rate, boards=list(boards),
    )  # fmt: skip
    optimize_model(model, out, dataset=dataset, options=opts, force=force, log=click.echo)


@main.command()
@click.argument("dataset")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--model", type=click.Path(path_type=Path), help="An int8 .tflite: also write the inputs in its int8 form.")
@click.option("--seed", type=int, default=0, show_default=True, help="The split's seed (as given to train).")
@click.option("--test-fraction", type=float, default=0.2, show_default=True)
@click.option("--force", is_flag=True, help="Write into a non-empty output folder.")
@_friendly
def data(
    dataset: str, out: Path, split: str, model: Path | None, seed: int, test_fraction: float, force: bool
) -> None:
    """Export a dataset split as .npy files ready for `validate --inputs`.

    Writes x_<split>.npy (float32 inputs, as trained on), y_<split>.npy (int32 labels) and, with
    --model, x_<split>_int8.npy (the inputs quantized with the model's input scale and zero
    point). The split is the one `train` makes with the same --seed. `train` and `quantize`
    already leave the test split beside the model.

    \b
    Example:
      tinypipe data digits -o runs/digits/data --model runs/digits/model.tflite
      tinypipe validate runs/digits/model.tflite --inputs runs/digits/data/x_test_int8.npy
      tinypipe data mydata.npz --split train -o data --seed 3
    """
    import numpy as np

    from .check.testdata import export_split

    paths = export_split(dataset, out, split, model, seed=seed, test_fraction=test_fraction, force=force)
    x = np.load(paths[-1])
    click.echo(f"Wrote {', '.join(p.name for p in paths)} to {out} ({len(x)} samples)")


# ---------------------------------------------------------------- inspect / export


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@_friendly
def inspect(model: Path, as_json: bool) -> None:
    """Show a .tflite model's operators, quantization, parameters, MACs and backend support.

    \b
    Example:
      tinypipe inspect runs/digits/model.tflite
      tinypipe inspect model.tflite --json > model.json
    """
    from .compiler.summary import format_summary, summarize

    info = summarize(model)
    click.echo(json.dumps(info, indent=2) if as_json else format_summary(info))


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tflm", "c"]),
    default="c",
    show_default=True,
    help="tflm: the model as a C array for the TFLM interpreter; c: standalone compiled C.",
)
@click.option(
    "-o", "--output", "out", type=click.Path(path_type=Path), required=True, help="Output folder."
)
@click.option(
    "--name", default="model", show_default=True, help="C identifier prefix for the model."
)
@click.option(
    "--arena-margin",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="tflm: extra arena bytes on top of the exact size.",
)
@_max_recompute_option("c: ")
@_flash_budget_option("c: ", default="none")
@click.option("--library-version", default="1.0.0", show_default=True, help="c: version in the library manifests.")
@click.option("--library-url", default=None, help="c: your project's page, for library.properties (default: tinypipe's).")
@click.option("--force", is_flag=True, help="Write into a non-empty output folder.")
@_friendly
def export(
    model: Path, fmt: str, out: Path, name: str, arena_margin: int, max_recompute: float,
    flash_budget: int | None, library_version: str, library_url: str | None, force: bool,
) -> None:  # fmt: skip
    """Turn a full-int8 .tflite model into C sources.

    With --format c the folder is also a library: library.json (PlatformIO), CMakeLists.txt
    (CMake, Zephyr) and arduino/NAME/ (an Arduino library: library.properties, src/, example).

    \b
    Example:
      tinypipe export model.tflite --format tflm -o out/tflm --name digits
      tinypipe export model.tflite --format c -o out/c --name digits
    """
    if fmt == "tflm":
        from .compiler.export_tflm import export_tflm

        res = export_tflm(model, out, name=name, arena_margin=arena_margin, force=force)
        click.echo(f"Wrote {', '.join(res.files)} to {out}")
        click.echo(
            f"Exact TFLM arena: {res.arena_size} bytes (+{arena_margin} margin), measured with "
            "the 64-bit host interpreter: an upper bound on 32-bit targets, where pointers are "
            f"smaller; ops: {', '.join(res.ops)}"
        )
    else:
        from .compiler.codegen import export_c

        library = {"version": library_version, **({"url": library_url} if library_url else {})}
        res = export_c(
            model, out, name=name, force=force, max_recompute=max_recompute / 100,
            flash_budget=flash_budget, **library,
        )  # fmt: skip
        click.echo(f"Wrote {len(res.files)} files to {out}")
        click.echo(
            f"Arena (peak RAM of the plan): {res.model.plan.describe()}; "
            f"weights: {res.weight_bytes} bytes"
        )
        click.echo(res.model.layouts.summary())
        if res.model.layouts.layers:
            click.echo(res.model.layouts.table())
        click.echo(res.model.patches_summary)
        click.echo(res.model.order_summary)


# ---------------------------------------------------------------- run


@main.command()
@click.argument("config", type=click.Path(path_type=Path), default="tinypipe.toml", required=False)
@click.option("--force", is_flag=True, help="Re-run every stage even if its inputs did not change.")
@_friendly
def run(config: Path, force: bool) -> None:
    """Run the whole pipeline from a tinypipe.toml: data -> train -> quantize -> export ->
    firmware -> build -> validate -> report. Unchanged stages are skipped.

    \b
    Example:
      tinypipe run examples/digits/tinypipe.toml
      tinypipe run examples/vibration            # a folder holding tinypipe.toml
    """
    from .pipeline.run import run_pipeline

    report = run_pipeline(config, force=force, log=click.echo)
    ok = all(b["bit_exact"] for b in report["boards"].values())
    sys.exit(0 if ok else 1)


@main.command()
@click.argument("config", type=click.Path(path_type=Path), default="tinypipe.toml", required=False)
@click.option("--address", default=None, help="A running Ray cluster (host:port); default: $RAY_ADDRESS, else an embedded Ray on this machine.")
@click.option("--resume", is_flag=True, help="Continue an interrupted search: run only the trials not finished yet.")
@click.option("--force", is_flag=True, help="Delete the earlier trials of this search and start over.")
@_friendly
def search(config: Path, address: str | None, resume: bool, force: bool) -> None:
    """Search the [search] space of a tinypipe.toml for the most accurate model that fits the
    board: each trial trains, quantizes, compiles and measures on the board under QEMU. Needs
    the search extra (pip install 'tinypipe[search]', Ray Tune).

    \b
    Writes OUTPUT/search/: search.json, search.md, pareto.png, trials/<id>/, best/model.tflite.
    Exits 1 when a trial's device outputs differ from TFLM or trials are left unfinished.
    Example:
      tinypipe search examples/search/tinypipe.toml
      tinypipe search examples/search --address 10.0.0.5:6379
      tinypipe search examples/search --resume     # after an interrupt
    """
    from .pipeline.search import run_search

    summary = run_search(config, address=address, resume=resume, force=force, log=click.echo)
    mismatch = [t for t in summary["trials"] if t["status"] == "measured" and t["board"]["fits"] and not t["board"]["bit_exact"]]
    unfinished = summary["planned"] - len(summary["trials"])  # interrupted, or trials that failed
    sys.exit(1 if mismatch or unfinished else 0)


# ---------------------------------------------------------------- validate


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--board", "-b", default="host", show_default=True, help="Board to run on (see `tinypipe boards`).")
@click.option("--inputs", "inputs", type=click.Path(path_type=Path), required=True, help=".npy of samples (first axis); .npz keyed by input name or index for several inputs.")
@click.option("--save-outputs", type=click.Path(path_type=Path), help="Write the device outputs as .npy (.npz keyed by output name for several outputs).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the verdict as JSON.")
@click.option("--sanitize", is_flag=True, help="host: build with AddressSanitizer and UBSan, and check at run time that every layer keeps to the memory plan.")
@_flash_budget_option("A .tflite TARGET: ", default="the board's flash (none for host)")
@_friendly
def validate(
    target: Path, board: str, inputs: Path, save_outputs: Path | None, json_path: Path | None, sanitize: bool,
    flash_budget: int | None,
) -> None:
    """Run inputs through the compiled model and compare with the TFLM interpreter, bit for bit.

    TARGET is a .tflite model (or a `tinypipe firmware` project folder). Int8 inputs are used as
    they are; float inputs are quantized with the model's input scale and zero point. Outputs saved
    with --save-outputs have shape (N, *output_shape): the batch dimension of 1 is kept. A model
    with several inputs takes an .npz with one array per input (keyed by the input's name or
    index: "0", "1", or numpy.savez's "arr_0", ...) and saves an .npz keyed by output name.

    Exit status: 0 bit-exact, 1 mismatch (the first divergent layer is named), 2 bad input.

    \b
    Example:
      tinypipe validate model.tflite --board host --inputs x_test.npy --json verdict.json
      tinypipe validate model.tflite --board mps2-an386 --inputs x_test.npy
    """
    from .check.validate import validate_target
    from .outdir import check_output_file

    check_output_file(save_outputs, "--save-outputs")
    check_output_file(json_path, "--json")
    verdict, _ = validate_target(
        target, board, inputs, sanitize=sanitize, save_to=save_outputs, flash_budget=flash_budget
    )
    click.echo(verdict.summary())
    if json_path:
        json_path.write_text(json.dumps(verdict.to_dict(), indent=2) + "\n")
    sys.exit(0 if verdict.bit_exact else 1)


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--board", "-b", required=True, help="A Cortex-M3 or Cortex-M4 board: mps2-an385, mps2-an386, netduinoplus2.")
@click.option("--inputs", "inputs", type=click.Path(path_type=Path), help=".npy of samples: the first one is run (default: a seeded random sample).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the report as JSON.")
@_flash_budget_option("A .tflite TARGET: ")
@_friendly
def cycles(target: Path, board: str, inputs: Path | None, json_path: Path | None, flash_budget: int | None) -> None:
    """Model the cycles of one inference from the core's Technical Reference Manual timings.

    TARGET is a .tflite model (or a `tinypipe firmware` project folder). The firmware runs under
    QEMU with block tracing, and the instructions it executed between the counter's start and
    stop are replayed through the TRM's instruction timings and load/store pairing rules
    (Cortex-M3: Arm 100165_0201 Table 3-1; Cortex-M4: Arm DDI 0439D Tables 3-1 and 3-2). Time
    and energy are then estimated on those cycles instead of on instructions.

    \b
    Example:
      tinypipe cycles model.tflite --board mps2-an386 --inputs x_test.npy
    """
    from .check.validate import cycles_on_board
    from .outdir import check_output_file

    check_output_file(json_path, "--json")
    report = cycles_on_board(target, board, inputs, flash_budget=flash_budget)
    click.echo(report.summary())
    if json_path:
        json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")


# ---------------------------------------------------------------- boards / firmware / build / flash


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def boards(as_json: bool) -> None:
    """List the boards: CPU, FPU, flash, RAM, clock, how they run and how they flash.

    \b
    Example:
      tinypipe boards
      tinypipe boards --json
    """
    from .device.boards import BOARDS, format_boards

    if as_json:
        click.echo(json.dumps([b.as_dict() for b in BOARDS.values()], indent=2))
    else:
        click.echo(format_boards())


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", "-b", "board_names", multiple=True, required=True, help="Target board; repeat for several (see `tinypipe boards`).")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True, help="Project folder to write.")
@click.option("--name", default="model", show_default=True, help="C identifier prefix for the model.")
@click.option("--force", is_flag=True, help="Replace the project files in a non-empty folder.")
@click.option(
    "--protocol",
    type=click.Choice(["tinypipe", "mlperf"]),
    default="tinypipe",
    show_default=True,
    help="What the firmware speaks: the tinypipe link (validate) or the MLPerf Tiny / EEMBC protocol.",
)
@_max_recompute_option()
@_flash_budget_option()
@_friendly
def firmware(
    model: Path, board_names: tuple[str, ...], out: Path, name: str, force: bool, protocol: str,
    max_recompute: float, flash_budget: int | None,
) -> None:  # fmt: skip
    """Write a PlatformIO project (one env per board) that builds offline.

    MODEL is a .tflite file, or a folder written by `tinypipe export --format c`. The model must
    fit every board (arena + stack in RAM, code + weights in flash); if it does not, nothing is
    written and the numbers are printed (exit 2).

    \b
    Example:
      tinypipe firmware model.tflite --board host --board mps2-an386 -o fw
      tinypipe build fw && tinypipe flash fw -e mps2-an386
    """
    from .device.firmware import create_project

    project = create_project(
        model, list(board_names), out, name=name, force=force, protocol=protocol,
        max_recompute=max_recompute / 100, flash_budget=flash_budget,
    )  # fmt: skip
    click.echo(f"Wrote PlatformIO project {out} (envs: {', '.join(project.envs)})")
    if project.patches_summary:
        click.echo(project.patches_summary)
    for report in project.fit:
        for line in report.describe("\n").splitlines():
            click.echo(f"  estimate: {line}")
    click.echo(f"Next: tinypipe build {out}")


@main.command()
@click.argument("project", type=click.Path(path_type=Path), default=".", required=False)
@click.option("-e", "--environment", "envs", multiple=True, help="Env to build (default: all); repeatable.")
@click.option("-v", "--verbose", is_flag=True, help="Show every compiler command.")
@_friendly
def build(project: Path, envs: tuple[str, ...], verbose: bool) -> None:
    """Build a firmware project with PlatformIO (offline) and report flash and RAM use per env,
    read from the ELF, against each board's budget.

    \b
    Example:
      tinypipe build fw
      tinypipe build fw -e mps2-an386
    """
    from .device.firmware import build as build_project

    for res in build_project(project, list(envs) or None, verbose=verbose):
        click.echo(f"[{res.env}] built {res.program} in {res.seconds:.1f} s")
        click.echo(f"  {res.board.name}: {res.usage.describe()}")


@main.command()
@click.argument("project", type=click.Path(path_type=Path), default=".", required=False)
@click.option("-e", "--environment", "env", help="Env to upload (needed when the project has several).")
@click.option("--port", help="Serial port of a real board: selects its hardware flasher (netduinoplus2: st-flash).")
@click.option("--protocol", help="Upload protocol: qemu, native, stlink, openocd, dfu (per board).")
@click.option("--dry-run", is_flag=True, help="Print the exact upload command instead of running it.")
@_friendly
def flash(project: Path, env: str | None, port: str | None, protocol: str | None, dry_run: bool) -> None:
    """Upload firmware (PlatformIO's upload target): boot the ELF in QEMU for emulated boards,
    run the program for host, or flash a real STM32F405 with st-flash / openocd / dfu-util.

    \b
    Example:
      tinypipe flash fw -e mps2-an386                         # console in this terminal
      tinypipe flash fw -e netduinoplus2 --port /dev/ttyUSB0 --dry-run
      tinypipe flash fw -e netduinoplus2 --protocol dfu
    """
    from .device.firmware import upload

    result = upload(project, env, port=port, protocol=protocol, dry_run=dry_run)
    if dry_run:
        click.echo(result)
    else:
        sys.exit(result)


# ---------------------------------------------------------------- NPU estimate


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--accelerator",
    default="ethos-u55-128",
    show_default=True,
    help="Ethos-U configuration: ethos-u55-32/64/128/256, ethos-u65-256/512.",
)
@click.option("--board", help="Also build and run tinypipe's C on this board (e.g. mps2-an386) for a side-by-side.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Write the figures as JSON here.")
@_friendly
def npu(model: Path, accelerator: str, board: str | None, json_path: Path | None) -> None:
    """Estimate MODEL on an Arm Ethos-U NPU with Arm's Vela compiler (`pip install "tinypipe[npu]"`):
    NPU cycles, time at the NPU clock, SRAM, flash, and the ops Vela leaves on the CPU.
    The figures are Vela's performance-model estimates, not measurements.

    \b
    Example:
      tinypipe npu model.tflite --accelerator ethos-u55-128
      tinypipe npu model.tflite --accelerator ethos-u65-256 --board mps2-an386 --json npu.json
    """
    from .pipeline.npu_compare import compare_npu, side_by_side

    result = compare_npu(model, accelerator, board)
    click.echo(result["estimate"].summary())
    if "cortex_m" in result:
        click.echo("")
        click.echo(side_by_side(result["estimate"], result["cortex_m"]))
    if json_path:
        out = {k: v for k, v in result.items() if k != "estimate"}
        json_path.write_text(json.dumps(out, indent=2) + "\n")


@main.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--board", "-b", required=True, help="The env (board) to run, e.g. mps2-an386.")
@click.option("--inputs", type=click.Path(path_type=Path), required=True, help=".npy of samples (first axis).")
@click.option("--port", help="Serial port of a real board already running the firmware.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Write the verdict as JSON here.")
@_friendly
def mlperf(project: Path, board: str, inputs: Path, port: str | None, json_path: Path | None) -> None:
    """Drive MLPerf Tiny firmware (`tinypipe firmware --protocol mlperf`) as the benchmark's
    runner does: name, profile, then per sample `db load`, `db HEX`, `infer 1 0`, and check
    each result vector against the TFLM interpreter's output dequantized to 3 decimals.

    Exit status: 0 identical, 1 a difference, 2 bad input.

    \b
    Example:
      tinypipe firmware model.tflite --board mps2-an386 --protocol mlperf -o fw-mlperf
      tinypipe mlperf fw-mlperf --board mps2-an386 --inputs x_test.npy
    """
    from .check.mlperf_check import validate_mlperf

    verdict = validate_mlperf(project, board, inputs, port)
    click.echo(verdict.summary())
    if json_path:
        json_path.write_text(json.dumps(verdict.to_dict(), indent=2) + "\n")
    sys.exit(0 if verdict.exact else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
