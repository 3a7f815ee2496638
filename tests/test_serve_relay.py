"""The proxy's reading of Oxigraph's answers: chunked bodies decoded as they come, whatever
the pieces the socket gives, and a malformed or cut-short body never passed on as whole."""

from __future__ import annotations

import http.client
import io
import random

import pytest

from kg.serve import _AnswerBody, _ChunkDecoder


def chunked(pieces: list[bytes], trailers: bytes = b"") -> bytes:
    out = b"".join(b"%x;ext=1\r\n%b\r\n" % (len(p), p) if i % 2 else b"%X\r\n%b\r\n" % (len(p), p)
                   for i, p in enumerate(pieces))  # fmt: skip
    return out + b"0\r\n" + trailers + b"\r\n"


def decode(raw: bytes, cuts: list[int]) -> tuple[bytes, bool]:
    decoder, out, at = _ChunkDecoder(), [], 0
    for cut in [*cuts, len(raw)]:
        out.append(decoder.feed(raw[at:cut]))
        at = cut
    return b"".join(out), decoder.done


def test_every_split_of_a_chunked_body_gives_its_data():
    pieces = [b'{"head":', b"\r\n0\r\n\r\n", b"x" * 300, b"\xe8\xb0\x88", b"}"]
    raw = chunked(pieces, trailers=b"X-Trailer: 1\r\n")
    for cut in range(len(raw) + 1):
        assert decode(raw, [cut]) == (b"".join(pieces), True), cut
    rng = random.Random(7)
    for _ in range(200):
        cuts = sorted(rng.sample(range(len(raw)), 6))
        assert decode(raw, cuts) == (b"".join(pieces), True)


def test_a_body_without_its_last_chunk_is_not_done():
    raw = chunked([b"abc", b"def"])
    for end in range(len(raw)):
        data, done = decode(raw[:end], [])
        assert not done and b"abcdef".startswith(data)


@pytest.mark.parametrize(
    "raw", [b"zz\r\nab\r\n0\r\n\r\n", b"2\r\nabc\r\n0\r\n\r\n", b"1" * 9000 + b"\r\n"]
)
def test_malformed_framing_is_refused(raw):
    with pytest.raises(ValueError):
        _ChunkDecoder().feed(raw)


class _Answer:
    """What _AnswerBody takes from an http.client answer: its socket file and its framing."""

    def __init__(self, body: bytes, *, chunked: bool, length: int | None):
        self.fp, self.chunked, self.length = io.BufferedReader(io.BytesIO(body), 7), chunked, length


def read_all(answer) -> bytes:
    body, out, done = _AnswerBody(answer), [], False
    while not done:
        data, done = body.read()
        out.append(data)
    return b"".join(out)


def test_answer_bodies_of_each_framing():
    data = bytes(range(256)) * 5000  # over PROXY_READ: several reads
    raw = chunked([data[i : i + 1100] for i in range(0, len(data), 1100)])
    assert read_all(_Answer(raw, chunked=True, length=None)) == data
    assert read_all(_Answer(data + b"after", chunked=False, length=len(data))) == data
    assert read_all(_Answer(data, chunked=False, length=None)) == data
    assert read_all(_Answer(b"", chunked=False, length=0)) == b""


def test_an_answer_cut_short_raises():
    raw = chunked([b"a" * 100, b"b" * 100])
    with pytest.raises(http.client.IncompleteRead):
        read_all(_Answer(raw[:150], chunked=True, length=None))
    with pytest.raises(http.client.IncompleteRead):
        read_all(_Answer(b"x" * 10, chunked=False, length=20))
