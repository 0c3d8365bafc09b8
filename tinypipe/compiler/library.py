"""The exported C model as a library for existing projects: a PlatformIO `library.json`, a
`CMakeLists.txt` (any CMake build, Zephyr included) and an Arduino library under
`arduino/<name>/` (`library.properties`, `src/`, an example sketch).

The C sources stay flat at the top of the export folder, so it still compiles with a plain
`cc *.c`; the PlatformIO and CMake manifests build them there. The Arduino library format wants
its sources under `src/`, so that folder carries its own copy.
"""

from __future__ import annotations

import re

from tinypipe.resources import template_env

from .codegen import CModel, _io_info

LIBRARY_VERSION = "1.0.0"
# The Arduino library specification requires a `url`: tinypipe's package page until the user
# passes their project's with --library-url.
DEFAULT_URL = "https://pypi.org/project/tinypipe/"
DEFAULT_AUTHOR = "tinypipe"
# Arduino library names: letters, digits, spaces, underscores, dots and dashes, 63 at most,
# starting with a letter or digit (a C identifier prefix always qualifies).
ARDUINO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,62}")
SEMVER = re.compile(r"\d+\.\d+\.\d+")


def _one_line(text: str) -> str:
    """Properties files end a value at the line break: keep descriptions on one line."""
    return " ".join(str(text).split())


def library_files(
    cmodel: CModel,
    version: str = LIBRARY_VERSION,
    url: str = DEFAULT_URL,
    author: str = DEFAULT_AUTHOR,
) -> dict[str, str]:
    """Manifests (and the Arduino copy of the sources) for `cmodel`'s export folder, by
    relative path."""
    from tinypipe.errors import TinypipeError

    if not SEMVER.fullmatch(version):
        raise TinypipeError(
            f"Library version '{version}' is not MAJOR.MINOR.PATCH.", "Use for example 1.0.0."
        )
    if not ARDUINO_NAME.fullmatch(cmodel.name):  # the codegen's identifier check makes this hold
        raise TinypipeError(f"'{cmodel.name}' cannot name an Arduino library.")
    ins, outs = cmodel.graph.input_tensors, cmodel.graph.output_tensors
    name = cmodel.name

    def shapes(ts) -> str:
        return ", ".join(f"{list(t.shape)} {t.dtype}" for t in ts)

    sentence = (
        f"The {name} neural network compiled to C by tinypipe: input {shapes(ins)}, "
        f"output {shapes(outs)}."
    )
    paragraph = (
        f"{len(cmodel.graph.operators)} layers, {cmodel.weight_bytes} bytes of weights in flash, "
        f"one static arena of {cmodel.arena_size} bytes; no heap, no interpreter, no float math. "
        f"Call {name}_invoke() (see {name}.h). Bit-exact with the TensorFlow Lite Micro interpreter."
    )
    example = f"{name}_run"
    ctx = {
        "name": name,
        "NAME": name.upper(),
        "version": version,
        "url": _one_line(url),
        "author": _one_line(author),
        "sentence": sentence,
        "paragraph": paragraph,
        "header": f"{name}.h",
        "sources": sorted(f for f in cmodel.files if f.endswith(".c")),
        "example": example,
        "inputs": [_io_info(t, "input", k, len(ins)) for k, t in enumerate(ins)],
        "outputs": [_io_info(t, "output", k, len(outs)) for k, t in enumerate(outs)],
    }
    env = template_env("library")
    files = {
        "library.json": env.get_template("library.json.j2").render(ctx),
        "CMakeLists.txt": env.get_template("CMakeLists.txt.j2").render(ctx),
    }
    arduino = f"arduino/{name}"
    files[f"{arduino}/library.properties"] = env.get_template("library.properties.j2").render(ctx)
    files[f"{arduino}/examples/{example}/{example}.ino"] = env.get_template(
        "example.ino.j2"
    ).render(ctx)
    for fname, text in sorted(cmodel.files.items()):
        files[f"{arduino}/src/{fname}"] = text
    return files
