"""tinypipe.toml: the one file that describes a run (data, model, quantization, boards, budget)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tinypipe.errors import TinypipeError

# section -> {key: (type, default)}
SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], object]]] = {
    "project": {"name": (str, "model"), "output": (str, "out")},
    # inputs: samples to validate with (.npy, or .npz keyed by input name or index); needed
    # with [model] tflite, which takes no dataset.
    "data": {
        "dataset": (str, "digits"),
        "seed": (int, 0),
        "test_fraction": (float, 0.2),
        "inputs": (str, ""),
    },
    # tflite: a quantized model made elsewhere; the run then skips train and quantize.
    "model": {
        "name": (str, "tiny_cnn"),
        "epochs": (int, 0),
        "batch_size": (int, 32),
        "learning_rate": (float, 3e-3),
        "tflite": (str, ""),
    },
    "quantize": {
        "max_drop": ((int, float), 2.0),
        "representative_samples": (int, 200),
        "activations": (str, "int8"),
    },
    # max_recompute: the MACs (percent of the model's) patch-based execution of the first layers
    # may add to lower the peak RAM (tinypipe export/firmware --max-recompute); 0: never.
    # flash_budget: the flash the firmware may take, bytes or e.g. "300K" (--flash-budget);
    # "": the smallest flash of the boards.
    "deploy": {
        "boards": (list, ["host"]),
        "validate_samples": (int, 64),
        "max_recompute": ((int, float), 10.0),
        "flash_budget": ((int, str), ""),
    },
    # Lightweighting between train and quantize (tinypipe.model.optimize); off unless a
    # technique is set. distill_from is a teacher .keras, distill_inputs unlabelled inputs
    # (.npy) the teacher labels for the student, both relative to this file.
    "optimize": {
        "qat": (bool, False),
        "prune": ((int, float), 0.0),
        "cluster": (int, 0),
        "distill_from": (str, ""),
        "distill_inputs": (str, ""),
        "temperature": ((int, float), 4.0),
        "distill_weight": ((int, float), 0.7),
        "epochs": (int, 5),
        "learning_rate": (float, 2e-3),
    },
    # Ethos-U estimates by Arm's Vela (the [npu] extra) for the run's model, in the report.
    "npu": {"accelerators": (list, [])},
    # `tinypipe search` (the [search] extra, Ray Tune): the model that fits `board` best. The
    # space is [search.models.<zoo family>] (knob = [values], input_size too) and
    # [search.optimize] (prune, cluster, qat = [values]); see tinypipe.pipeline.search_space.
    "search": {
        "board": (str, ""),
        "max_instructions": (int, 0),  # 0: no limit
        "max_latency_ms": ((int, float), 0.0),  # at the board's clock, one instruction a cycle
        "trials": (int, 0),  # candidates drawn from the space; 0: all of them
        "epochs": (int, 10),  # most training epochs a trial gets (ASHA's resource)
        "grace_epochs": (int, 2),  # epochs every trial trains before ASHA may stop it
        "reduction_factor": (int, 2),  # ASHA keeps the best 1/reduction_factor at each rung
        "finetune_epochs": (int, 2),  # per optimize step (prune, cluster, qat)
        "validation_fraction": (float, 0.2),  # of the training split, for early stopping
        "validate_samples": (int, 8),  # test inputs run on the board, checked bit for bit
        "concurrent": (int, 0),  # trials at once; 0: one per CPU of the Ray cluster
        "models": (dict, {}),
        "optimize": (dict, {}),
    },
}


@dataclass
class RunConfig:
    path: Path
    sections: dict[str, dict] = field(default_factory=dict)

    def get(self, section: str, key: str):
        return self.sections[section][key]

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def output(self) -> Path:
        return (self.root / self.get("project", "output")).resolve()

    def resolve_dataset(self) -> str:
        """Dataset names stay names; file paths are taken relative to the config's folder."""
        ds = self.get("data", "dataset")
        if ds.endswith((".npz", ".csv")):
            return str((self.root / ds).resolve())
        return ds

    def resolve(self, section: str, key: str) -> Path | None:
        """A file path from the config, relative to its folder; None when not set."""
        value = self.get(section, key)
        return (self.root / value).resolve() if value else None

    @property
    def flash_budget(self) -> int | None:
        """[deploy] flash_budget in bytes; None when not set (the boards' flash)."""
        from tinypipe.compiler.flash_budget import parse_flash_budget

        value = self.get("deploy", "flash_budget")
        if value == "":
            return None
        try:
            return parse_flash_budget(value)
        except TinypipeError as exc:
            raise TinypipeError(f"'{self.path}': [deploy] {exc.what}", exc.fix) from None

    @property
    def given_model(self) -> Path | None:
        """[model] tflite: the run deploys this model instead of training one."""
        return self.resolve("model", "tflite")

    @property
    def optimizing(self) -> bool:
        o = self.sections["optimize"]
        return any(o[k] for k in ("qat", "prune", "cluster", "distill_from", "distill_inputs"))

    def optimize_options(self, boards: list[str]):
        """The [optimize] section as OptimizeOptions (file paths resolved), measuring every
        step on `boards`."""
        from tinypipe.model.optimize import OptimizeOptions

        o = self.sections["optimize"]
        teacher = self.resolve("optimize", "distill_from")
        inputs = self.resolve("optimize", "distill_inputs")
        return OptimizeOptions(
            qat=o["qat"], prune=float(o["prune"]), cluster=o["cluster"], distill_from=teacher,
            distill_inputs=inputs, temperature=float(o["temperature"]),
            distill_weight=float(o["distill_weight"]),
            epochs=o["epochs"], learning_rate=o["learning_rate"], seed=self.get("data", "seed"),
            representative_samples=self.get("quantize", "representative_samples"),
            boards=boards,
        )  # fmt: skip


def load_config(path: str | Path) -> RunConfig:
    path = Path(path)
    if path.is_dir():
        path = path / "tinypipe.toml"
    if not path.exists():
        raise TinypipeError(
            f"Config file '{path}' does not exist.",
            "Pass a tinypipe.toml (see examples/digits/tinypipe.toml) or a folder holding one.",
        )
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TinypipeError(
            f"'{path}' is not valid TOML: {exc}.", "Fix the syntax and run again."
        ) from None
    sections: dict[str, dict] = {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise TinypipeError(
                f"'{path}': [{section}] must be a table.",
                f"Write it as [{section}] with key = value lines.",
            )
        unknown = sorted(set(given) - set(keys))
        if unknown:
            raise TinypipeError(
                f"'{path}': unknown key(s) {', '.join(unknown)} in [{section}].",
                f"Valid keys there: {', '.join(keys)}.",
            )
        values = {}
        for key, (typ, default) in keys.items():
            value = given.get(key, default)
            if not isinstance(value, typ) or (isinstance(value, bool) and typ is not bool):
                raise TinypipeError(
                    f"'{path}': [{section}] {key} = {value!r} has the wrong type.",
                    f"Expected {getattr(typ, '__name__', 'a number')}, e.g. {key} = {default!r}.",
                )
            values[key] = value
        sections[section] = values
    if sections["quantize"]["activations"] not in ("int8", "int16"):
        raise TinypipeError(
            f"'{path}': [quantize] activations = {sections['quantize']['activations']!r} is not "
            "int8 or int16.",
            'Use activations = "int8" (the default) or "int16" (16x8 quantization).',
        )
    unknown_sections = sorted(set(raw) - set(SCHEMA))
    if unknown_sections:
        raise TinypipeError(
            f"'{path}': unknown section(s) {', '.join(unknown_sections)}.",
            f"Valid sections: {', '.join(SCHEMA)}.",
        )
    if not sections["deploy"]["boards"]:
        raise TinypipeError(
            f"'{path}': [deploy] boards is empty.",
            'List at least one board, e.g. boards = ["host"].',
        )
    _check_values(path, sections)
    cfg = RunConfig(path.resolve(), sections)
    cfg.flash_budget  # noqa: B018 (a bad value refused now, before any stage runs)
    _check_given_model(cfg)
    if cfg.optimizing and sections["quantize"].get("activations", "int8") != "int8":
        raise TinypipeError(
            f"'{path}': [optimize] makes full-int8 models, but [quantize] activations = "
            f"{sections['quantize']['activations']!r}.",
            'Set activations = "int8" in [quantize], or remove the [optimize] section.',
        )
    return cfg


# section, key -> (lowest allowed, highest allowed or None)
_RANGES = {
    ("data", "seed"): (0, None),
    ("data", "test_fraction"): (1e-6, 1 - 1e-6),
    ("model", "epochs"): (0, None),
    ("model", "batch_size"): (1, None),
    ("model", "learning_rate"): (1e-12, None),
    ("quantize", "max_drop"): (0, 100),
    ("quantize", "representative_samples"): (1, None),
    ("deploy", "validate_samples"): (1, None),
    ("deploy", "max_recompute"): (0, 100),
    ("search", "max_instructions"): (0, None),
    ("search", "max_latency_ms"): (0, None),
    ("search", "trials"): (0, None),
    ("search", "epochs"): (1, None),
    ("search", "grace_epochs"): (1, None),
    ("search", "reduction_factor"): (2, None),
    ("search", "finetune_epochs"): (1, None),
    ("search", "validation_fraction"): (1e-6, 0.5),
    ("search", "validate_samples"): (1, None),
    ("search", "concurrent"): (0, None),
}


def _check_values(path: Path, sections: dict[str, dict]) -> None:
    """Values of the right type but outside what a run can use; paths that leave the project."""
    from tinypipe.compiler.ctext import check_c_name

    for (section, key), (lo, hi) in _RANGES.items():
        v = sections[section][key]
        if v != v or v < lo or (hi is not None and v > hi):  # v != v: NaN
            span = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
            raise TinypipeError(
                f"'{path}': [{section}] {key} = {v!r} is out of range.", f"Use a value {span}."
            )
    boards = sections["deploy"]["boards"]
    if not all(isinstance(b, str) for b in boards):
        raise TinypipeError(
            f"'{path}': [deploy] boards = {boards!r} must be a flat list of board names.",
            'Write e.g. boards = ["host", "mps2-an386"] (see `tinypipe boards`).',
        )
    check_c_name(sections["project"]["name"], f"'{path}': [project] name")
    root = path.resolve().parent
    for section, key in (
        ("project", "output"),
        ("data", "dataset"),
        ("data", "inputs"),
        ("model", "tflite"),
    ):
        value = sections[section][key]
        if key == "dataset" and not value.endswith((".npz", ".csv")):
            continue  # a built-in dataset name
        if key in ("inputs", "tflite") and not value:
            continue  # not set
        if "\0" in value or not (root / value).resolve().is_relative_to(root):
            raise TinypipeError(
                f"'{path}': [{section}] {key} = {value!r} points outside the project folder '{root}'.",
                "Use a path inside the folder that holds tinypipe.toml.",
            )


def _check_given_model(cfg: RunConfig) -> None:
    """[model] tflite needs validation inputs, and nothing that only applies to training."""
    model = cfg.given_model
    if model is None:
        return
    where = f"'{cfg.path}': [model] tflite = {cfg.get('model', 'tflite')!r}"
    if model.suffix != ".tflite" or not model.is_file():
        raise TinypipeError(
            f"{where} is not a .tflite file{'' if model.exists() else ' (it does not exist)'}.",
            "Point it at a quantized .tflite inside the project folder.",
        )
    if not cfg.get("data", "inputs"):
        raise TinypipeError(
            f"{where} comes with no samples to validate it on.",
            'Add inputs = "x.npy" to [data] (an .npz keyed by input name or index for a model '
            "with several inputs).",
        )
    if cfg.optimizing:
        raise TinypipeError(
            f"{where}: [optimize] needs the Keras model, which a .tflite does not carry.",
            "Remove the [optimize] section, or train the model with the run (drop tflite).",
        )
