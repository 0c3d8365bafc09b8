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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tinypipe")
def main() -> None:
    """tinypipe: tiny neural networks onto microcontrollers, bit-exact with TFLM.

    \b
    Stages:  train -> quantize -> inspect -> export -> firmware -> build -> flash -> validate
    One shot: tinypipe run examples/digits/tinypipe.toml
    """


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
    from .summary import format_summary, summarize

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
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--name", default="model", show_default=True, help="C identifier prefix for the model.")
@click.option("--arena-margin", default=0, show_default=True, type=click.IntRange(0), help="tflm: extra arena bytes on top of the exact size.")
@click.option("--force", is_flag=True, help="Write into a non-empty output folder.")
@_friendly
def export(model: Path, fmt: str, out: Path, name: str, arena_margin: int, force: bool) -> None:
    """Turn a full-int8 .tflite model into C sources.

    \b
    Example:
      tinypipe export model.tflite --format tflm -o out/tflm --name digits
      tinypipe export model.tflite --format c -o out/c
    """
    if fmt == "tflm":
        from .export_tflm import export_tflm

        res = export_tflm(model, out, name=name, arena_margin=arena_margin, force=force)
        click.echo(f"Wrote {', '.join(res.files)} to {out}")
        click.echo(f"Exact TFLM arena: {res.arena_size} bytes (+{arena_margin} margin); ops: {', '.join(res.ops)}")
    else:
        from .codegen import export_c

        res = export_c(model, out, name=name, force=force)
        click.echo(f"Wrote {len(res.files)} files to {out}")
        click.echo(f"Arena (peak RAM of the plan): {res.arena_size} bytes; weights: {res.weight_bytes} bytes")


if __name__ == "__main__":  # pragma: no cover
    main()
