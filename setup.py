"""Ship the top-level templates/ and firmware/ folders inside the wheel as tinypipe/_data."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py

SHIPPED = ("templates", "firmware")


class build_py(_build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).parent
        for name in SHIPPED:
            src = root / name
            if src.is_dir():
                dst = Path(self.build_lib) / "tinypipe" / "_data" / name
                shutil.copytree(src, dst, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", ".pio"))


setup(cmdclass={"build_py": build_py})
