"""The host side of the device link against a device that sends well-framed nonsense: every line
below has a correct CRC, so only the content checks stand between it and a Python exception."""

from __future__ import annotations

import pytest

from tinypipe.device.boards import get_board
from tinypipe.device.runners import LinkError, LinkInfo, Runner, frame

HELLO = "H tinypipe-link v=1 model=m board=host in=2 out=2 it=i8 ot=i8 arena=0 counter=ns hz=1"


class ScriptedDevice:
    """Answers the hello request with HELLO, then every other request with the next line."""

    describe = "a scripted device"

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = list(answers)
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if data.strip().startswith(b"?"):
            self.pending.append(frame(HELLO))
        elif self.answers:
            self.pending.append(self.answers.pop(0))

    def readline(self, timeout: float) -> bytes | None:
        return self.pending.pop(0) if self.pending else None

    def close(self) -> None:
        pass


def _runner(answers: list[bytes]) -> Runner:
    return Runner(ScriptedDevice(answers), get_board("host"), "ns", 1.0, timeout=0.2, hello_timeout=1)


@pytest.mark.parametrize(
    "answer, message",
    [
        (frame(""), "did not answer"),  # an empty body: skipped, then silence
        (frame("O 1 zz 5"), "whole hex bytes"),
        (frame("O 1 abc 5"), "whole hex bytes"),
        (frame("O 1 ABCD 5"), "whole hex bytes"),
        (frame("O 1 abcd -5"), "non-negative decimal"),
        (frame("O 1 abcd 1e3"), "non-negative decimal"),
        (frame("O 1 abcdef 5"), "Output has 3 bytes"),
        (frame("O 1 abcd"), "Malformed output line"),
        (frame("E"), "rejected"),
    ],
)
def test_malformed_answers_are_link_errors(answer: bytes, message: str) -> None:
    r = _runner([answer])
    with pytest.raises(LinkError, match=message):
        r.infer(b"\x00\x01")


def test_good_answer_still_works() -> None:
    r = _runner([frame("O 1 00ff 7")])
    assert r.infer(b"\x00\x01") == (b"\x00\xff", 7)


@pytest.mark.parametrize("profile", ["P 1 2 5 -3", "P 1 2 5", "P x 1 5", "P"])
def test_malformed_profiles_are_link_errors(profile: str) -> None:
    r = _runner([frame("O 1 00ff 7"), frame(profile)])
    r.infer(b"\x00\x01")
    with pytest.raises(LinkError):
        r.profile()


@pytest.mark.parametrize(
    "change", ["in=2 ", "out=2 ", "hz=1", "arena=0 "],
)
def test_hello_with_negative_or_zero_sizes_is_refused(change: str) -> None:
    key = change.split("=")[0]
    bad = HELLO.replace(change, f"{key}=-4 " if change.endswith(" ") else f"{key}=0")
    with pytest.raises(LinkError, match="Malformed hello"):
        LinkInfo.parse(bad)


def test_sequence_numbers_stay_in_the_documented_range() -> None:
    r = _runner([frame("O 999999999 00ff 7"), frame("O 1 00ff 8")])
    r._seq = 999_999_998
    assert r.infer(b"\x00\x01") == (b"\x00\xff", 7)
    assert r.infer(b"\x00\x01") == (b"\x00\xff", 8)  # wraps to 1, never 0 ("no inference yet")
