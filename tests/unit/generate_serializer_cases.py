# Writes tests/unit/serializer_cases.inc, the byte-exact expectations of serializer_test.cpp,
# from the real cachekit-py 0.24.1 (with its [json] extra: orjson) in the project venv:
#   .venv/bin/python tests/unit/generate_serializer_cases.py > tests/unit/serializer_cases.inc
# Every frame below is what cachekit-py's CacheSerializationHandler.serialize_data writes (or, for
# the Python-only payloads, what its AutoSerializer would frame); `msgpack` is the standard-profile
# MessagePack a C++ typed codec writes for the same data (StandardSerializer's packing).
import datetime as dt
import random
import struct
import uuid
from importlib.metadata import version

import msgpack
import orjson
from cachekit._rust_serializer import ByteStorage
from cachekit.cache_handler import CacheSerializationHandler
from cachekit.serializers.wrapper import SerializationWrapper

assert version("cachekit") == "0.24.1", version("cachekit")


def frame(serializer, value, integrity):
    h = CacheSerializationHandler(serializer_name=serializer, enable_integrity_checking=integrity)
    return h.serialize_data(value, cache_key="k")


def standard_msgpack(value):
    """The payload of StandardSerializer with integrity off: plain msgpack."""
    payload, _, _ = SerializationWrapper.unwrap(frame("default", value, False))
    return bytes(payload)


def read_back(serializer, integrity, stored):
    h = CacheSerializationHandler(serializer_name=serializer, enable_integrity_checking=integrity)
    return h.deserialize_data(stored, cache_key="k")


UTC = dt.timezone.utc
# JSON values: what C++ can write, and what orjson writes for it.
json_values = [
    ("a1", {"a": 1}),
    ("sorted_keys", {"b": 1, "a": [1.5, None, True], "A": False, "é": "x", "\U0001F600": 2, "z": {}}),
    ("scalars", [None, True, False, 0, -1, 127, 128, -33, 2**63 - 1, -(2**63), 2**64 - 1]),
    ("floats", [0.0, -0.0, 1.0, 0.1, 1e-5, 1e-6, 1e15, 1e16, 1.5e16, 1e100, 5e-324, 123.456]),
    ("escapes", "q\"b\\s/\x00\x1f\x7f\u2028é\b\f\n\r\t😀"),
    ("empty", [[], {}, "", [[]]]),
    ("nested", {"users": [{"id": 1, "name": "ann"}, {"id": 2, "name": "bo"}], "count": 2}),
    ("long_string", "x" * 300),
    ("datetimes", [dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 1, 2, 3, 4, 5, 678900, tzinfo=UTC),
                   dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))]),
    ("date_and_time", {"d": dt.date(2024, 1, 2), "t": dt.time(3, 4, 5, 6)}),
    ("unicode_key_order", {"\uffff": 1, "\U00010000": 2, "\u00ff": 3, "~": 4}),
]

# Auto values Python writes with markers; `cpp` is the same data as C++ holds it.
auto_reads = [
    ("tuple", {"b": 1, "a": (1, 2)}, {"b": 1, "a": [1, 2]}),
    ("nested_tuples", ((1, (2, 3)), [(4,)]), [[1, [2, 3]], [[4]]]),
    ("set_of_ints", {"s": {3, 1, 2}}, {"s": [1, 2, 3]}),
    ("uuid", [uuid.UUID("12345678-1234-5678-1234-567812345678")], ["12345678-1234-5678-1234-567812345678"]),
    ("datetime", {"at": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)}, {"at": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)}),
    ("plain", {"a": [1, "x", None, 1.5, b"\x00\xff"]}, {"a": [1, "x", None, 1.5, b"\x00\xff"]}),
]
for name, py, cpp in auto_reads:
    assert standard_msgpack(cpp) == standard_msgpack(cpp)
# Auto values C++ writes (no markers needed): Python's AutoSerializer writes the same bytes.
auto_writes = [("a1", {"a": 1}), ("mixed", {"b": [1, 2.5, None, True, "s", b"\x01"], "a": {}})]


def ndarray_entry(integrity):
    inner = msgpack.packb({"x": {"__ndarray__": True, "data": b"\x00" * 8, "shape": [1], "dtype": "<f8"}},
                          use_bin_type=True)
    payload = ByteStorage("msgpack").store(inner, "msgpack") if integrity else inner
    meta = {"format": "msgpack", "encoding": "utf-8", "compressed": integrity, "original_type": "msgpack"}
    return SerializationWrapper.wrap(payload, meta, "auto")


def numpy_raw_entry():
    # AutoSerializer._serialize_numpy's layout for np.array([1.0]) (numpy is not installed here).
    body = b"NUMPY_RAW" + (3).to_bytes(4, "little") + b"<f8" + (1).to_bytes(4, "little") + (1).to_bytes(4, "little")
    body += struct.pack("<d", 1.0)
    meta = {"format": "msgpack", "encoding": "utf-8", "compressed": False, "original_type": "numpy"}
    return SerializationWrapper.wrap(body, meta, "auto")


def columnar_entry():
    doc = msgpack.packb({"columns": ["a"], "data": {"a": [1]}, "index": None}, use_bin_type=True)
    payload = ByteStorage("msgpack").store(doc, "dataframe")
    meta = {"format": "msgpack", "encoding": "utf-8", "compressed": True, "original_type": "dataframe"}
    return SerializationWrapper.wrap(payload, meta, "auto")


def arrow_entry():
    meta = {"format": "arrow", "encoding": "utf-8", "compressed": False, "original_type": "arrow"}
    return SerializationWrapper.wrap(b"\x00" * 8 + b"ARROW1\x00\x00", meta, "auto")


def hexs(b):
    h = bytes(b).hex()
    return "\n".join('      "%s"' % h[i:i + 96] for i in range(0, len(h), 96)) if h else '      ""'


print("// Generated by tests/unit/generate_serializer_cases.py from cachekit-py 0.24.1 and orjson %s." % orjson.__version__)
print("// Do not edit; rerun the generator.")
print("// clang-format off")
print("const serializer_case json_cases[] = {")
for name, v in json_values:
    on, off = frame("orjson", v, True), frame("orjson", v, False)
    assert read_back("orjson", True, on) is not None or v is None
    print('  {"%s",\n%s,\n%s,\n%s},' % (name, hexs(standard_msgpack(v)), hexs(on), hexs(off)))
print("};")
print("const serializer_case auto_read_cases[] = {")
for name, py, cpp in auto_reads:
    print('  {"%s",\n%s,\n%s,\n%s},' % (name, hexs(standard_msgpack(cpp)), hexs(frame("auto", py, True)),
                                         hexs(frame("auto", py, False))))
print("};")
print("const serializer_case auto_write_cases[] = {")
for name, v in auto_writes:
    print('  {"%s",\n%s,\n%s,\n%s},' % (name, hexs(standard_msgpack(v)), hexs(frame("auto", v, True)),
                                         hexs(frame("auto", v, False))))
print("};")
print("// Python-only AutoSerializer entries: (name, frame, integrity checking of the reader).")
print("const python_only_case python_only_cases[] = {")
for name, entry, integrity in [("ndarray_marker_on", ndarray_entry(True), True),
                               ("ndarray_marker_off", ndarray_entry(False), False),
                               ("numpy_raw", numpy_raw_entry(), True),
                               ("dataframe_columnar", columnar_entry(), True),
                               ("arrow_ipc", arrow_entry(), True)]:
    print('  {"%s",\n%s, %s},' % (name, hexs(entry), "true" if integrity else "false"))
print("};")
# orjson's float text for random and edge-case doubles, as (bits, text).
rng = random.Random(20260712)
floats = [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 0.2, 0.3, 1 / 3, 2.0**53, 2.0**63,
          2.0**64, 1e21, 1e22, 1e-7, 9.999999999999999e15, 1e16 - 2, 123456789012345.6, 0.000123, 1e-5, 9.9e-6]
floats += [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(1500)]
floats += [rng.uniform(-1e6, 1e6) for _ in range(300)] + [float(rng.randint(-10**17, 10**17)) for _ in range(200)]
floats += [rng.random() * 10.0 ** rng.randint(-12, 22) for _ in range(500)]
print("const float_case float_cases[] = {")
for f in floats:
    if f != f or f in (float("inf"), float("-inf")):
        continue
    bits = struct.unpack("<Q", struct.pack("<d", f))[0]
    print('  {0x%016xULL, "%s"},' % (bits, orjson.dumps(f).decode()))
print("};")
print("// clang-format on")
