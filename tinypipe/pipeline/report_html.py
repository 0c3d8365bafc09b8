"""report.html: a verdict banner, then one section per topic, each with its charts and tables.

A section is a function `report dict -> Section | None` (None: nothing to show for this run);
SECTIONS lists them in page order. To add one (say, energy per inference), write a function
that reads its figures from the report dict, builds its HTML with `table()` and `chart()`, and
append it to SECTIONS; templates/report/report.html.j2 only lays the sections out.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from tinypipe import __version__
from tinypipe.resources import template_env

from . import charts


@dataclass
class Section:
    id: str  # the anchor in the page
    title: str
    html: str  # the body, already escaped (build it with table(), chart(), paragraph())


SectionFn = Callable[[dict], "Section | None"]


# ---------------------------------------------------------------- building blocks


def paragraph(text: str, cls: str = "") -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>' if cls else f"<p>{html.escape(text)}</p>"


def chart(png: bytes | None, alt: str) -> str:
    """An inline PNG (the page needs no network and no other file)."""
    if not png:
        return ""
    data = base64.b64encode(png).decode()
    return f'<img class="chart" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: Sequence[int] = (),
          names: Sequence[int] = (0,)) -> str:  # fmt: skip
    """A table; columns in `numeric` are right-aligned, those in `names` never wrap."""

    def cls(j: int) -> str:
        return ' class="num"' if j in numeric else (' class="name"' if j in names else "")

    head = "".join(f"<th{cls(j)}>{html.escape(str(h))}</th>" for j, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f"<td{cls(j)}>{html.escape(str(c))}</td>" for j, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bullet_list(items: Sequence[str]) -> str:
    return '<ul class="plain">' + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def _n(x) -> str:
    return "-" if x is None else f"{int(x):,}"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def _ms(instructions, clock_hz) -> str:
    return "-" if not instructions or not clock_hz else f"{instructions / clock_hz * 1e3:.2f}"


def _uj(x) -> str:
    return "-" if x is None else f"{x:,.2f}"


def estimate_notes(boards: dict) -> list[str]:
    """One line per board: what its ms and µJ estimates rest on (or why energy is unavailable)."""
    out = []
    for name, b in boards.items():
        e = b.get("estimate")
        if not e:
            continue
        if e["energy_uj"] is None:
            energy = f"energy unavailable: {e['energy_basis']}"
        else:
            energy = f"energy from {e['energy_basis']}"
        out.append(f"{name}: {e['cycles']:,} cycles = {e['cycles_basis']}, at "
                   f"{e['clock_hz'] / 1e6:g} MHz; {energy}.")  # fmt: skip
    return out


def _points(delta: float) -> str:
    return "no change" if abs(delta) < 0.005 else f"{delta:+.2f} points"


def layer_inputs(row: dict, sep: str = "x") -> str:
    """A layer's activation input shapes (several for ADD, CONCATENATION, ...)."""
    shapes = row.get("inputs", [row.get("input", [])])
    return " + ".join(sep.join(map(str, s)) for s in shapes)


def io_rows(r: dict) -> list[list[str]]:
    """One row per model input and output: API position, tensor name, shape, type, quantization."""
    rows = []
    for kind, key in (("in", "inputs"), ("out", "outputs")):
        for k, t in enumerate(r.get("io", {}).get(key, [])):
            quant = (
                "-"
                if t["scale"] is None
                else f"scale {t['scale']:.6g}, zero point {t['zero_point']}"
            )
            rows.append(
                [f"{kind}{k}", t["name"], "x".join(map(str, t["shape"])), t["dtype"], quant]
            )
    return rows


# ---------------------------------------------------------------- the banner


def banner(r: dict) -> dict:
    """Cards for the top of the page: per board bit-exact and fit, and float vs int8 accuracy."""
    cards, ok = [], True
    for name, b in r["boards"].items():
        lines = []
        if b.get("bit_exact"):
            lines.append(("pass", f"✔ bit-exact: {b.get('samples')} samples"))
        else:
            ok = False
            lines.append(
                ("fail", f"✘ MISMATCH: {b.get('mismatches')} of {b.get('elements')} elements")
            )
        fit = b.get("fit", {})
        if "flash_margin" in fit:
            fits = fit["flash_margin"] >= 0 and fit["ram_margin"] >= 0
            ok &= fits
            lines.append(("pass" if fits else "fail", f"{'✔ fits' if fits else '✘ does not fit'}: "
                          f"flash {_n(fit['flash_margin'])} B, RAM {_n(fit['ram_margin'])} B spare"))  # fmt: skip
        else:
            lines.append(("na", "no memory budget (runs on this machine)"))
        if b.get("instructions"):
            when = f", {_ms(b['instructions'], b.get('clock_hz'))} ms at {b['clock_hz'] / 1e6:g} MHz" if b.get("clock_hz") else ""
            uj = (b.get("estimate") or {}).get("energy_uj")
            when += "" if uj is None else f", {_uj(uj)} µJ (est.)"
            lines.append(("", f"{_n(b['instructions'])} instructions / inference{when}"))
        cards.append({"title": name, "lines": lines})
    acc = r.get("accuracy", {})
    if acc.get("int8") is not None:
        drop = acc.get("drop_points")
        cards.insert(0, {"title": "accuracy (test split)", "lines": [
            ("", f"float {_pct(acc.get('float'))} → int8 {_pct(acc.get('int8'))}"),
            ("", "" if drop is None else f"quantization: {_points(-drop)} on {acc.get('samples')} samples"),
        ]})  # fmt: skip
    return {"ok": ok, "cards": cards}


# ---------------------------------------------------------------- sections


def accuracy_section(r: dict) -> Section | None:
    acc = r.get("accuracy") or {}
    if acc.get("int8") is None:
        return None
    drop = "-" if acc.get("drop_points") is None else f"{acc['drop_points']:.2f}"
    body = table(["split", "samples", "float (Keras)", "int8 (TFLM)", "drop (points)"],
                 [["test", acc.get("samples", "-"), _pct(acc.get("float")), _pct(acc.get("int8")), drop]],
                 numeric=(1, 2, 3, 4))  # fmt: skip
    body += chart(charts.confusion(acc.get("confusion_matrix"), acc.get("classes") or []),
                  "confusion matrix of the int8 model")  # fmt: skip
    return Section("accuracy", "Accuracy", body)


def io_section(r: dict) -> Section | None:
    """The model's inputs and outputs as the C API takes them (in0, in1, ..., out0, ...)."""
    rows = io_rows(r)
    if not rows:
        return None
    body = table(["", "tensor", "shape", "type", "quantization"], rows, names=(0, 1, 2))
    return Section("io", "Inputs and outputs", body)


def boards_section(r: dict) -> Section:
    checks, memory, split = [], [], []
    for name, b in r["boards"].items():
        f, ram, fit = b.get("flash", {}), b.get("ram", {}), b.get("fit", {})
        e = b.get("estimate") or {}
        checks.append([name, "yes" if b.get("bit_exact") else "NO", b.get("samples", "-"), b.get("mismatches", "-"),
                       _n(b.get("instructions")), _ms(b.get("instructions"), b.get("clock_hz")),
                       _uj(e.get("energy_uj"))])  # fmt: skip
        fits = "-" if "flash_margin" not in fit else (
            "yes" if fit["flash_margin"] >= 0 and fit["ram_margin"] >= 0 else "NO")  # fmt: skip
        memory.append([name, _n(f.get("used")), _n(f.get("budget")), _n(fit.get("flash_margin")), _n(ram.get("used")),
                       _n(ram.get("stack") or None), _n(ram.get("budget")), _n(fit.get("ram_margin")), fits])  # fmt: skip
        if f.get("used") is not None and f.get("weights") is not None:
            split.append(
                [
                    name,
                    _n(f.get("weights")),
                    _n(f.get("kernels")),
                    _n(f.get("rest")),
                    _n(f.get("used")),
                ]
            )
    body = table(["board", "bit-exact vs TFLM", "samples", "mismatches", "instructions / inference",
                  "ms at board clock (est.)", "µJ / inference (est.)"], checks, numeric=(2, 3, 4, 5, 6))  # fmt: skip
    notes = estimate_notes(r["boards"])
    if notes:
        body += "<h3>How ms and µJ are estimated</h3>" + bullet_list(notes)
    body += "<h3>Flash and RAM</h3>" + table(
        ["board", "flash used B", "flash budget B", "flash spare B", "RAM used B", "of which stack B",
         "RAM budget B", "RAM spare B", "fits"], memory, numeric=(1, 2, 3, 4, 5, 6, 7))  # fmt: skip
    body += paragraph("RAM used counts .data, .bss (the model's arena, input and output buffers, the "
                      "link) and the stack the linker script reserves; ms assume one instruction per "
                      "cycle at the board's clock.", "note")  # fmt: skip
    body += chart(charts.memory_budget(r["boards"]), "flash and RAM against each board's budget")
    if split:
        body += "<h3>Flash split</h3>" + table(["board", "weights", "kernels", "rest", "total"], split,
                                                numeric=(1, 2, 3, 4))  # fmt: skip
    return Section("boards", "Boards", body)


def layers_section(r: dict) -> Section:
    board = r.get("layer_instructions_board")
    clock = r["boards"].get(board, {}).get("clock_hz") if board else None
    body = chart(charts.layer_costs(r["layers"], clock, board), "instructions per layer")
    rows = [[row["index"], row["op"], layer_inputs(row, "×"), "×".join(map(str, row["output"])),
             _n(row["macs"]), _n(row["param_bytes"]), _n(row["live_bytes"]), _n(row.get("instructions")),
             _ms(row.get("instructions"), clock), _uj(row.get("energy_uj"))] for row in r["layers"]]  # fmt: skip
    body += table(["#", "op", "input", "output", "MACs", "params B", "live arena B",
                   f"instructions ({board or 'not measured'})", "ms (est.)", "µJ (est.)"], rows,
                  numeric=(0, 4, 5, 6, 7, 8, 9), names=(1, 2, 3))  # fmt: skip
    return Section("layers", "Layers", body)


def arena_section(r: dict) -> Section:
    mem = r["memory"]
    tflm = mem.get("tflm_arena_bytes")
    text = (f"tinypipe's arena: {mem['arena_bytes']:,} B (plus {mem['io_bytes']:,} B of input and output "
            f"buffers); TFLM's smallest arena for the same model: {_n(tflm)} B.")  # fmt: skip
    body = paragraph(text)
    body += chart(charts.arena_timeline(r.get("arena_buffers") or [], mem["arena_bytes"], r["layers"]),
                  "arena timeline: tensor lifetimes over the layers and their offsets")  # fmt: skip
    body += paragraph("Each box is one tensor (or scratch buffer): from the layer that writes it to "
                      "the last that reads it, at its offset in the arena. Shape-only ops share "
                      "their input's bytes; the model's input and output stay in the caller's buffers.",
                      "note")  # fmt: skip
    body += chart(
        charts.live_arena(r["layers"], mem["arena_bytes"], tflm), "arena bytes live per layer"
    )
    return Section("arena", "Arena", body)


def provenance_section(r: dict) -> Section:
    m = r["model"]
    items = [f"model {m['tflite']}: sha256 {m['sha256']}"]
    items.append(
        f"given as {m['source']}"
        if m.get("source")
        else f"Keras model: sha256 {m.get('keras_sha256') or '-'}"
    )
    items.append(
        f"{len(r.get('generated_sources', {}))} generated C sources (hashes in report.json)"
    )
    items += [f"{k}: {v}" for k, v in r.get("toolchain", {}).items()]
    stages = r.get("stages", {})
    if stages.get("seconds"):
        items.append(
            "stages run: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages["seconds"].items())
        )
    if stages.get("skipped"):
        items.append("stages reused (inputs unchanged): " + ", ".join(stages["skipped"]))
    return Section("provenance", "Provenance", bullet_list(items))


def markdown_body(lines: Sequence[str]) -> str:
    """Plain Markdown (paragraphs and pipe tables, `**bold**` dropped) as HTML: for a section
    whose text is written once for report.md."""
    out, rows = [], []

    def cell(c: str) -> str:
        return c.strip().replace("**", "")

    for line in [*lines, ""]:
        if line.startswith("|"):
            cells = [cell(c) for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= {"-", ":"} for c in cells):
                rows.append(cells)
            continue
        if rows:
            numeric = [
                j
                for j in range(len(rows[0]))
                if j
                and all(re.fullmatch(r"[-\d,.% ()a-z]*\d[\d,.% ()a-z]*|-", r[j]) for r in rows[1:])
            ]
            out.append(table(rows[0], rows[1:], numeric=numeric))
            rows = []
        if line.strip() and not line.startswith("#"):
            out.append(paragraph(line.strip()))
    return "".join(out)


def lightweighting_section(r: dict) -> Section | None:
    """The [optimize] steps (tradeoff.py): their table and the accuracy/size plot."""
    if not r.get("optimize"):
        return None
    import io

    from .tradeoff import tradeoff_markdown, tradeoff_plot

    buf = io.BytesIO()
    tradeoff_plot(r["optimize"], buf)
    body = markdown_body(tradeoff_markdown(r["optimize"]))
    body += chart(buf.getvalue(), "int8 accuracy against size and cost per lightweighting step")
    return Section("lightweighting", "Lightweighting", body)


def weights_section(r: dict) -> Section | None:
    """The weight layout per layer (int16-expanded or int8) and the flash budget it met."""
    w = r.get("weights")
    if not w:
        return None
    body = paragraph(f"{w['summary']}.")
    if w["layers"]:
        rows = [[x["op"], x["opcode"], _n(x["macs"]), x["layout"], _n(x["extra_bytes"]),
                 _n(x["instructions_saved"])] for x in w["layers"]]  # fmt: skip
        body += table(["#", "op", "MACs", "layout", "int16: extra flash B",
                       "int16: instructions saved (est.)"], rows, numeric=(0, 2, 4, 5),
                      names=(1,))  # fmt: skip
    return Section("weights", "Weight layouts", body)


def npu_section(r: dict) -> Section | None:
    """Vela's Ethos-U estimates beside the measured Cortex-M instructions."""
    if not r.get("npu"):
        return None
    from .report import npu_markdown

    return Section(
        "npu", "Ethos-U NPU estimate", markdown_body(npu_markdown(r["npu"], r["boards"]))
    )


SECTIONS: list[SectionFn] = [io_section, accuracy_section, boards_section, lightweighting_section, npu_section,
                             layers_section, weights_section, arena_section, provenance_section]  # fmt: skip


def render_html(report: dict, sections: Sequence[SectionFn] = SECTIONS) -> str:
    env = template_env("report", autoescape=True)
    built = [s for s in (fn(report) for fn in sections) if s is not None]
    return env.get_template("report.html.j2").render(
        name=report["name"],
        run_date=report.get("run_date", "-"),
        version=report.get("toolchain", {}).get("tinypipe", __version__),
        banner=banner(report),
        sections=[{"id": s.id, "title": s.title, "html": Markup(s.html)} for s in built],
    )
