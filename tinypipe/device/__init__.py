"""Boards, PlatformIO firmware projects, ELF size accounting and the host/QEMU/serial link."""
