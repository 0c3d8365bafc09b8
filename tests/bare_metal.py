"""Small C harnesses run bare-metal under QEMU, for tests of runtime pieces on a given core.

The harness includes SEMIHOST_C and calls tp_report(index) (prints the decimal index through
semihosting) and tp_exit(code) (QEMU exits with that status); run_bare_metal builds it with the
platform's startup and linker script, runs it and returns what it printed and its exit status.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tinypipe.resources import firmware_dir

SEMIHOST_C = r"""
static uint32_t tp_semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* SYS_WRITE0 of the decimal index */
static void tp_report(uint32_t index)
{
    char text[16];
    int n = 15;
    text[n] = 0;
    do {
        text[--n] = (char)('0' + index % 10);
        index /= 10;
    } while (index && n > 0);
    tp_semihost(0x04u, text + n);
}

/* SYS_EXIT_EXTENDED: QEMU exits with `code` */
static void tp_exit(uint32_t code)
{
    uint32_t block[2] = {0x20026u, code};
    tp_semihost(0x20u, block);
    for (;;) {
    }
}
"""

# QEMU machine -> (gcc's core flags, linker script)
MACHINES = {
    "mps2-an386": (["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"], "mps2.ld"),
    "mps2-an385": (["-mcpu=cortex-m3"], "mps2.ld"),
    "microbit": (["-mcpu=cortex-m0"], "nrf51822.ld"),
    "mps3-an547": (["-mcpu=cortex-m55", "-mfloat-abi=hard"], "mps3_an547.ld"),
}


def run_bare_metal(
    machine: str, sources: list[Path], include: list[Path], out_dir: Path, link: list[str] = ()
) -> tuple[str, int]:
    """Build `sources` (-O2, warnings as errors) for `machine` and run them under QEMU:
    (what the harness printed, QEMU's exit status)."""
    cpu, ldscript = MACHINES[machine]
    platform = firmware_dir() / "platforms" / "tinypipe"
    elf = out_dir / "harness.elf"
    subprocess.run(
        ["arm-none-eabi-gcc", *cpu, "-mthumb", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror",
         *[f"-I{d}" for d in include], *map(str, sources),
         str(platform / "startup" / "tpl_startup.c"), "-nostartfiles", "--specs=nano.specs",
         "--specs=nosys.specs", f"-L{platform / 'ldscripts'}", "-T", ldscript, *link,
         "-o", str(elf)],
        check=True,
    )  # fmt: skip
    run = subprocess.run(
        ["qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none", "-serial", "null",
         "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return (run.stdout + run.stderr).strip(), run.returncode
