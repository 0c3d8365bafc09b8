"""SCons build script of the `tinypipe` PlatformIO platform (runs inside `pio run`).

Everything it needs is on the machine already, so builds never touch the network:
- board `host`: the system C compiler (`cc`, or $CC) builds a native program;
- Cortex-M boards: Debian's arm-none-eabi-gcc and newlib-nano, plus this platform's own
  startup code (startup/), linker scripts (ldscripts/) and console driver (port/).

Board manifests (boards/*.json) say which CPU flags, linker script and console driver a
board uses under `build.tinypipe`; `board_build.tinypipe.*` in platformio.ini overrides them.

Targets: the default builds the ELF (and firmware.bin for Cortex-M); `upload` boots the ELF
in QEMU (protocol `qemu`), runs the host program (`native`), or flashes a real board
(`stlink`: st-flash, `openocd`, `dfu`: dfu-util). Set TINYPIPE_UPLOAD_PROTOCOL to override
`upload_protocol` for one run, and TINYPIPE_DRY_RUN=1 to print the upload command instead
of running it (nothing is built then).
"""

import os
import shlex
from os.path import join

from SCons.Script import Builder, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
PLATFORM_DIR = env.PioPlatform().get_dir()
BOARD_ID = env.subst("$BOARD")
TP = board.get("build.tinypipe")
KIND = TP["kind"]
F_CPU = int(str(board.get("build.f_cpu", "0L")).rstrip("L") or 0)

# ---------------------------------------------------------------- toolchain and flags

if KIND == "host":
    env.Replace(
        CC=os.environ.get("CC", "cc"),
        AR="ar",
        RANLIB="ranlib",
        PROGNAME="program",
        PROGSUFFIX="",
    )
    env.Append(
        CCFLAGS=["-O2", "-Wall", "-Wextra"],
        CFLAGS=["-std=c99"],
    )
else:
    cpu_flags = list(TP["cpu_flags"])
    env.Replace(
        CC="arm-none-eabi-gcc",
        CXX="arm-none-eabi-g++",
        AS="arm-none-eabi-gcc",
        AR="arm-none-eabi-gcc-ar",
        RANLIB="arm-none-eabi-gcc-ranlib",
        OBJCOPY="arm-none-eabi-objcopy",
        PROGNAME="firmware",
        PROGSUFFIX=".elf",
        LDSCRIPT_PATH=join(PLATFORM_DIR, "ldscripts", TP["ldscript"]),
    )
    env.Append(
        ASFLAGS=cpu_flags,
        ASPPFLAGS=["-x", "assembler-with-cpp"],
        CCFLAGS=cpu_flags + ["-O2", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra"],
        CFLAGS=["-std=c99"],
        LINKFLAGS=cpu_flags
        + [
            "-nostartfiles",
            "--specs=nano.specs",
            "--specs=nosys.specs",
            "-Wl,--gc-sections",
            f"-Wl,--defsym=__stack_size={int(TP['stack_size'])}",
            "-Wl,-Map," + join("$BUILD_DIR", "firmware.map"),
        ],
        LIBPATH=[join(PLATFORM_DIR, "ldscripts")],
        CPPDEFINES=[("TPL_CPU_HZ", f"{F_CPU}u")],
        BUILDERS=dict(
            ElfToBin=Builder(
                action=env.VerboseAction("$OBJCOPY -O binary $SOURCES $TARGET", "Building $TARGET"),
                suffix=".bin",
            )
        ),
    )

    if not os.environ.get("TINYPIPE_DRY_RUN"):  # PlatformIO's size check would build first
        env.Replace(SIZETOOL="arm-none-eabi-size")

# A compiler launcher such as `ccache` in front of the C compiler (TINYPIPE_CC_LAUNCHER):
# projects that build the same kernels with the same flags then share their objects.
if os.environ.get("TINYPIPE_CC_LAUNCHER"):
    env.Replace(CC=[*shlex.split(os.environ["TINYPIPE_CC_LAUNCHER"]), env["CC"]])

env.Append(
    CPPPATH=[join(PLATFORM_DIR, "port")],
    CPPDEFINES=[("TPL_BOARD", env.StringifyMacro(BOARD_ID))],
)

# ---------------------------------------------------------------- board support sources

port_sources = f"-<*> +<{TP['port']}>"
if KIND != "host":
    port_sources += " +<tpl_systick.c>"
    env.BuildSources(
        join("$BUILD_DIR", "tinypipe_startup"), join(PLATFORM_DIR, "startup"), "+<*.c>"
    )
env.BuildSources(join("$BUILD_DIR", "tinypipe_port"), join(PLATFORM_DIR, "port"), port_sources)

program = env.BuildProgram()
if KIND == "host":
    artifacts = [program]
else:
    artifacts = [program, env.ElfToBin(join("$BUILD_DIR", "firmware"), program)]
Default(env.Alias("buildprog", artifacts))

# ---------------------------------------------------------------- upload


def _upload_command(protocol):
    prog = env.subst("$PROGPATH")
    firmware_bin = env.subst(join("$BUILD_DIR", "firmware.bin"))
    offset = board.get("upload.offset_address", "0x08000000")
    if protocol == "native":
        return [prog]
    if protocol == "qemu":
        return [
            "qemu-system-arm",
            "-M",
            TP["qemu_machine"],
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
            "stdio",
            "-icount",
            "shift=0",
            "-kernel",
            prog,
        ]
    if protocol == "stlink":
        return ["st-flash", "--reset", "write", firmware_bin, offset]
    if protocol == "openocd":
        target = board.get("debug.openocd_target")
        return [
            "openocd",
            "-f",
            "interface/stlink.cfg",
            "-f",
            f"target/{target}.cfg",
            "-c",
            f"program {prog} verify reset exit",
        ]
    if protocol == "dfu":
        return ["dfu-util", "-a", "0", "-s", f"{offset}:leave", "-D", firmware_bin]
    raise ValueError(
        f"tinypipe: board {BOARD_ID} has no upload protocol '{protocol}' "
        f"(known: {', '.join(board.get('upload.protocols', []))})"
    )


upload_protocol = (
    os.environ.get("TINYPIPE_UPLOAD_PROTOCOL")
    or env.subst("$UPLOAD_PROTOCOL")
    or board.get("upload.protocol")
)
if upload_protocol not in board.get("upload.protocols", []):
    raise SystemExit(
        f"tinypipe: board {BOARD_ID} cannot upload with '{upload_protocol}'; "
        f"choose one of: {', '.join(board.get('upload.protocols', []))}"
    )
upload_cmd = " ".join(shlex.quote(part) for part in _upload_command(upload_protocol))

if os.environ.get("TINYPIPE_DRY_RUN"):

    def _print_upload(target, source, env):  # the SCons action signature
        print("tinypipe-upload: " + upload_cmd)

    env.AddPlatformTarget("upload", None, [_print_upload], "Upload (dry run)")
else:
    env.AddPlatformTarget(
        "upload",
        artifacts,
        [env.VerboseAction(upload_cmd, f"Uploading with {upload_protocol}")],
        "Upload",
    )
