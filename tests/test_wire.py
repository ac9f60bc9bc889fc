"""The data-only channel (nncourse.autograde.wire): values, framing, limits, in-place changes."""

import os
import pickle
import struct

import numpy as np
import pytest

from nncourse.autograde import wire


class Loopback(wire.Endpoint):
    """Both ends in one process: what goes out is read back."""

    def export(self, obj):
        return self.handle_of(obj, {"type": type(obj).__name__})

    def proxy(self, number, meta):
        return ("proxy", number, meta["type"])


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def roundtrip(value, pipe):
    r, w = pipe
    ep = Loopback(r, w, 2**20)
    blobs: list = []
    header = {"value": ep.codec.encode(value, blobs)}
    wire.write_message(w, header, blobs)
    got, got_blobs = wire.read_message(r, 2**20)
    return ep.codec.decode(got["value"], got_blobs)


def test_values_cross_as_equal_data_of_the_same_types(pipe):
    rng = np.random.default_rng(3)
    rng.standard_normal(5)
    value = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "ints": [1, -2, 2**70],
        "t": (None, True, "é", float("nan"), float("-inf"), 1.5),
        7: np.float64(0.25),
        "rng": rng,
        "s": slice(1, None, 2),
        "b": b"\x00\x01",
        "c": 1 + 2j,
        "e": ...,
    }
    got = roundtrip(value, pipe)
    assert got["a"].dtype == np.float32 and np.array_equal(got["a"], value["a"])
    assert got["ints"] == [1, -2, 2**70] and type(got["t"]) is tuple
    assert got["t"][:3] == (None, True, "é") and np.isnan(got["t"][3])
    assert got["t"][4:] == (float("-inf"), 1.5)
    assert type(got[7]) is np.float64 and got[7] == 0.25
    assert got["rng"].standard_normal(3).tolist() == rng.standard_normal(3).tolist()
    assert (got["s"], got["b"], got["c"], got["e"]) == (
        slice(1, None, 2),
        b"\x00\x01",
        1 + 2j,
        ...,
    )


def test_other_objects_become_handles(pipe):
    class Net:
        pass

    got = roundtrip([Net(), np.zeros(2).view(np.matrix)], pipe)
    assert got[0][::2] == ("proxy", "Net") and got[1][2] == "matrix"


def test_object_arrays_and_pickles_never_cross(pipe):
    r, w = pipe
    ep = Loopback(r, w, 2**20)
    payload = pickle.dumps({"x": 1})
    header = {"value": {"t": "nd", "b": 0}}
    wire.write_message(w, header, [payload])
    got, blobs = wire.read_message(r, 2**20)
    with pytest.raises(wire.ProtocolError, match="cannot be read"):
        ep.codec.decode(got["value"], blobs)
    # An object array is handed out as a handle, never as data.
    assert roundtrip(np.array([object()]), pipe)[0] == "proxy"


def test_limits_are_checked_before_reading(pipe):
    r, w = pipe
    os.write(w, struct.pack("!I", 2**31))  # a header of 2 GB announced
    with pytest.raises(wire.ProtocolError, match="over the limit"):
        wire.read_message(r, 2**20)
    wire.write_message(w, {"x": 1}, [b"0" * 5000])
    with pytest.raises(wire.ProtocolError, match="over the limit of 4096"):
        wire.read_message(r, 4096)


def test_deep_nesting_is_refused(pipe):
    import threading

    r, w = pipe
    data = ("[" * 100_000 + "]" * 100_000).encode()  # JSON nested 100,000 deep
    writer = threading.Thread(target=os.write, args=(w, struct.pack("!I", len(data)) + data))
    writer.start()  # the pipe holds less than the message: write while reading
    try:
        with pytest.raises(wire.ProtocolError, match="not JSON"):
            wire.read_message(r, 2**20)
    finally:
        writer.join()


def test_a_closed_channel_and_a_late_peer_are_told_apart(pipe):
    r, w = pipe
    with pytest.raises(wire.Timeout):
        wire.read_message(r, 2**20, deadline=0.0)
    os.close(w)
    with pytest.raises(wire.PeerGone):
        wire.read_message(r, 2**20)


def test_apply_back_changes_the_originals_in_place():
    W, b = np.zeros((2, 2)), np.zeros(2)
    params = [W, b]
    new = [np.ones((2, 2)), np.full(2, 3.0)]
    wire.apply_back(params, new)
    assert params[0] is W and W.tolist() == [[1, 1], [1, 1]] and b.tolist() == [3, 3]
    d = {"W": np.zeros(1), "gone": 1}
    wire.apply_back(d, {"W": np.ones(1), "new": 2})
    assert d["W"].tolist() == [1] and "gone" not in d and d["new"] == 2
    rng = np.random.default_rng(0)
    moved = np.random.default_rng(0)
    moved.random(4)
    wire.apply_back(rng, moved)
    assert rng.random() == moved.random()


def test_fingerprint_sees_in_place_changes():
    x = np.zeros(3)
    before = wire.fingerprint([x, {"k": x}])
    x[1] = 1
    assert wire.fingerprint([x, {"k": x}]) != before
