"""`export --format c` as a library: built by CMake with the host compiler, used by a PlatformIO
project offline, and laid out as the Arduino library specification requires; each build runs
the model bit-exact with TFLM."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_export_c import USER_MAIN

from tinypipe.check.reference import run_tflm
from tinypipe.check.validate import validate_on_board
from tinypipe.cli import main
from tinypipe.compiler.graph import read_tflite
from tinypipe.device.firmware import create_project

# library.properties fields the Arduino library specification (1.5 format) requires
ARDUINO_REQUIRED = ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url", "architectures")
ARDUINO_CATEGORIES = {"Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
                      "Data Storage", "Data Processing", "Other"}  # fmt: skip


@pytest.fixture(scope="module")
def library(tmp_path_factory, digits_tflite) -> Path:
    out = tmp_path_factory.mktemp("lib") / "digits"
    res = CliRunner().invoke(
        main, ["export", str(digits_tflite), "--format", "c", "-o", str(out), "--name", "digits",
               "--library-version", "2.1.0", "--library-url", "https://example.org/digits"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


def test_cmake_target_builds_and_matches_tflm(tmp_path, library, digits_tflite):
    if not shutil.which("cmake"):
        pytest.fail("cmake is not installed (scripts/setup.sh installs it)")
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(USER_MAIN)
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\n"
        'set(CMAKE_C_FLAGS "${CMAKE_C_FLAGS} -Wall -Wextra -Werror -pedantic")\n'
        f"add_subdirectory({library.as_posix()} digits)\n"
        "add_executable(app main.c)\ntarget_link_libraries(app PRIVATE tinypipe::digits)\n"
    )
    build = tmp_path / "build"
    for cmd in (["cmake", "-S", str(app), "-B", str(build)], ["cmake", "--build", str(build)]):
        res = subprocess.run(cmd, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
    assert (build / "digits" / "libdigits.a").is_file()
    x = np.random.default_rng(7).integers(-128, 128, size=(1, 1, 8, 8, 1), dtype=np.int8)
    got = subprocess.run([str(build / "app")], input=x.tobytes(), capture_output=True, check=True).stdout.split()
    np.testing.assert_array_equal(
        np.array([int(v) for v in got], dtype=np.int8), run_tflm(digits_tflite.read_bytes(), x).ravel()
    )


def test_platformio_project_uses_the_library_offline(tmp_path, library, digits_tflite):
    """A PlatformIO project (tinypipe's offline host setup, its link main as the consumer) with
    the model taken from lib/digits/library.json instead of its own copy."""
    project = tmp_path / "fw"
    create_project(digits_tflite, ["host"], project, name="digits")
    shutil.rmtree(project / "lib" / "model")
    shutil.copytree(library, project / "lib" / "digits")
    x = np.random.default_rng(8).integers(-128, 128, size=(6, 1, 8, 8, 1), dtype=np.int8)
    verdict, _ = validate_on_board(read_tflite(digits_tflite), x, "host", project, name="digits")
    assert verdict.bit_exact, verdict.summary()
    # built from the library folder, and only once (its arduino/ copy is filtered out)
    objs = sorted(p.name for p in (project / ".pio" / "build" / "host").rglob("*.o"))
    assert "digits.o" in objs and objs.count("digits.o") == 1


def test_arduino_library_layout_follows_the_specification(library):
    root = library / "arduino" / "digits"
    props = dict(line.split("=", 1) for line in (root / "library.properties").read_text().splitlines() if line)
    assert set(ARDUINO_REQUIRED) <= set(props), set(ARDUINO_REQUIRED) - set(props)
    assert all(props[k].strip() for k in ARDUINO_REQUIRED)
    assert props["name"] == "digits" and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,62}", props["name"])
    assert props["version"] == "2.1.0" and props["url"] == "https://example.org/digits"
    assert props["category"] in ARDUINO_CATEGORIES and props["architectures"] == "*"
    assert props["includes"] == "digits.h"
    # sources under src/ (the 1.5 layout), identical to the flat export the other builds use
    srcs = sorted(p.name for p in (root / "src").iterdir())
    assert srcs == sorted(p.name for p in library.iterdir() if p.suffix in (".c", ".h"))
    for f in srcs:
        assert (root / "src" / f).read_bytes() == (library / f).read_bytes()
    # examples/<sketch>/<sketch>.ino, using the header and the generated sizes
    (sketch,) = (root / "examples").iterdir()
    ino = (sketch / f"{sketch.name}.ino").read_text()
    assert "#include <digits.h>" in ino and "digits_invoke(input, output)" in ino
    # library.json (PlatformIO) and CMakeLists.txt name the same sources
    import json

    manifest = json.loads((library / "library.json").read_text())
    assert manifest["name"] == "digits" and manifest["version"] == "2.1.0" and manifest["headers"] == "digits.h"
    cmake = (library / "CMakeLists.txt").read_text()
    assert sorted(re.findall(r"/(\w+\.c)\n", cmake)) == sorted(p.name for p in library.glob("*.c"))
    cfg = configparser.ConfigParser()  # the properties file also reads as plain key=value lines
    cfg.read_string("[p]\n" + (root / "library.properties").read_text())
    assert cfg["p"]["sentence"].startswith("The digits neural network")


SKETCH_HOST = """
#include <cstdio>
/* Just enough of the Arduino core for the example sketch to run on this machine. */
struct SerialPort {
    void begin(long) {}
    void print(const char *s) { std::printf("%s", s); }
    void println(long v) { std::printf("%ld\\n", v); }
};
static SerialPort Serial;
static unsigned long micros() { return 0; }
#include SKETCH
int main() { setup(); return 0; }
"""


def test_arduino_sketch_and_sources_build_as_cpp_and_c(tmp_path, library, digits_tflite):
    """The Arduino core compiles the sketch as C++ and src/ as C: the example sketch, on a
    stand-in for the core, prints what TFLM computes for an all-zero input."""
    root = library / "arduino" / "digits"
    (sketch,) = (root / "examples").iterdir()
    objs = []
    for src in sorted((root / "src").glob("*.c")):
        obj = tmp_path / f"{src.stem}.o"
        subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", str(src), "-o", str(obj)], check=True)
        objs.append(str(obj))
    (tmp_path / "host.cpp").write_text(SKETCH_HOST)
    exe = tmp_path / "sketch"
    subprocess.run(["c++", "-Wall", "-Wextra", "-Werror", f"-I{root / 'src'}",
                    f'-DSKETCH="{sketch / (sketch.name + ".ino")}"', "-x", "c++", str(tmp_path / "host.cpp"),
                    "-x", "none", *objs, "-o", str(exe)], check=True)  # fmt: skip
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    zeros = np.zeros((1, 1, 8, 8, 1), dtype=np.int8)
    assert [int(v) for v in lines[:-1]] == run_tflm(digits_tflite.read_bytes(), zeros).ravel().tolist()
    assert lines[-1] == "microseconds: 0"


def test_bad_library_version_is_refused_before_writing(tmp_path, digits_tflite):
    out = tmp_path / "c"
    res = CliRunner().invoke(main, ["export", str(digits_tflite), "-o", str(out), "--library-version", "v1"])
    assert res.exit_code == 2 and "MAJOR.MINOR.PATCH" in res.output and not out.exists()
