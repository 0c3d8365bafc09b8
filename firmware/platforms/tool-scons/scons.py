"""PlatformIO's `tool-scons` package, as a shim written by tinypipe.

PlatformIO runs `<its python> <packages_dir>/tool-scons/scons.py ...`; instead of the
registry's bundled copy of SCons, this uses the SCons that pip installed into the same
Python (`pip install scons`), so a build never downloads anything.
"""

import sys

try:
    from SCons.Script.Main import main
except ImportError:  # pragma: no cover - only when SCons is missing
    sys.stderr.write(
        f"tinypipe: this Python ({sys.executable}) cannot import SCons, which PlatformIO "
        f"needs to build.\nInstall it next to PlatformIO: {sys.executable} -m pip install "
        "'scons>=4.5'\n"
    )
    sys.exit(1)

if __name__ == "__main__":
    main()
