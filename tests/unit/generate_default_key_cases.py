# Emits the python_cases() table of tests/unit/default_key_test.cpp from the real cachekit 0.24.1
# CacheKeyGenerator (needs `pip install cachekit==0.24.1`). Run:
#   python tests/unit/generate_default_key_cases.py > cases.inc
# then paste the output between `return {` and `};` in python_cases() and run clang-format.
import datetime as dt, math, uuid, msgpack
from importlib.metadata import version
from cachekit.key_generator import CacheKeyGenerator

assert version("cachekit") == "0.24.1", version("cachekit")
gen = CacheKeyGenerator()

def cstr(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    out = '"'
    for c in b:
        ch = chr(c)
        if ch == '"' or ch == '\\': out += '\\' + ch
        elif 0x20 <= c < 0x7f: out += ch
        else: out += '\\%03o' % c
    return out + '"'

def sexpr(s):
    """A C++ expression of type std::string for s; long runs of one ASCII character stay short."""
    parts, i = [], 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]: j += 1
        if j - i > 20 and s[i].isascii() and s[i] not in "'\\":
            parts.append("std::string(%d, '%s')" % (j - i, s[i])); i = j
        else:
            k = i
            while k < len(s):
                m = k
                while m < len(s) and s[m] == s[k]: m += 1
                if m - k > 20 and s[k].isascii(): break
                k = m
            parts.append(cstr(s[i:k])); i = k
    if not parts: return 'std::string()'
    if not parts[0].startswith("std::string("): parts[0] = "std::string(%s)" % parts[0]
    return " + ".join(parts)

def cval(v):
    if v is None: return "value{}"
    if isinstance(v, bool): return "value{true}" if v else "value{false}"
    if isinstance(v, int):
        if v > 2**63 - 1: return "value{std::uint64_t{%dULL}}" % v
        if v == -2**63: return "value{std::numeric_limits<std::int64_t>::min()}"
        return "value{std::int64_t{%dLL}}" % v
    if isinstance(v, float):
        if math.isnan(v): return "value{std::numeric_limits<double>::quiet_NaN()}"
        if math.isinf(v): return "value{%sstd::numeric_limits<double>::infinity()}" % ("-" if v < 0 else "")
        return "value{%s}" % v.hex()
    if isinstance(v, str):
        return "value{%s}" % sexpr(v)
    if isinstance(v, bytes):
        return 'bin("%s")' % v.hex()
    if isinstance(v, (list, tuple)):
        return "value{value_array{%s}}" % ", ".join(cval(x) for x in v)
    if isinstance(v, dict):
        return "value{value_map{%s}}" % ", ".join("{%s, %s}" % (cval(k), cval(x)) for k, x in v.items())
    if isinstance(v, dt.datetime):
        off = v.utcoffset()
        return "aware(%d, %d, %d, %d, %d, %d, %d, %d)" % (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, int(off.total_seconds()))
    if isinstance(v, uuid.UUID):
        return 'make_uuid("%s")' % v.hex
    raise TypeError(type(v))

class F:  # a stand-in function: generate_key reads only __module__ and __qualname__
    def __init__(self, module, qualname): self.__module__, self.__qualname__ = module, qualname

cases = []
def case(name, args=(), kwargs=None, ns="test", module="app", qualname="fn", ic=True, ser="default"):
    cases.append((name, args, kwargs or {}, ns, module, qualname, ic, ser))

tz = lambda **kw: dt.timezone(dt.timedelta(**kw))
case("nested_dicts_sorted_at_every_level", ({"b": {"d": 1, "c": [1, {"z": None, "a": True}]}, "a": 2},))
case("unicode_string", ("h\u00e9llo w\u00f6rld \u2713",))
case("unicode_cjk_and_emoji", ("\u65e5\u672c\u8a9e \U0001f389",))
case("map_keys_in_code_point_order", ({"\uff61": 1, "\U00010000": 2, "a": 3, "B": 4, "\u00e9": 5},))
case("str_31_and_32_bytes", ("a" * 31, "b" * 32))
case("str_255_and_256_bytes", ("c" * 255, "d" * 256))
case("str_65536_bytes_str32", ("e" * 65536,))
case("multibyte_str_32_utf8_bytes", ("\u00e9" * 16,))
case("unsigned_int_widths", (2**64 - 1, 2**63, 2**63 - 1, 2**32, 2**32 - 1, 65536, 65535, 256, 255, 128, 127, 0))
case("negative_int_widths", (-1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**63))
case("bytes_as_bin", (b"", b"\x00\xff\x10", bytes(range(256))))
case("none_and_bools", (None, True, False, [None, True]))
case("floats", (-0.0, 0.0, 1e300, 1.5, -2.5e-300, 5e-324, 0.1, 3.0))
case("nan_and_infinities_pass_through", (float("nan"), float("inf"), float("-inf")))
case("nested_negative_zero", ([-0.0, {"x": -0.0}],))
case("aware_datetimes", (dt.datetime(2024, 1, 15, 10, 30, tzinfo=dt.timezone.utc),
                         dt.datetime(2024, 1, 15, 16, 0, 0, 123, tzinfo=tz(hours=5, minutes=30)),
                         dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=tz(hours=-8)),
                         dt.datetime(2024, 2, 29, 0, 0, 0, tzinfo=tz(hours=5, minutes=30, seconds=15))))
case("uuids", (uuid.UUID("550E8400-E29B-41D4-A716-446655440000"), uuid.UUID(int=0)))
case("tuples_are_lists", ((1, (2, 3)), [4, (5,)]))
case("int_map_keys_sorted_numerically", ({3: "c", -1: "a", 2: "b", 2**64 - 1: "z"},))
case("mixed_numeric_map_keys", ({2.5: "x", 1: "y", -3: "z", 0.5: "w"},))
case("negative_zero_map_key_is_not_normalized", ({-0.0: 1},))
case("bytes_map_keys", ({b"b": 1, b"a": 2, b"": 3, b"ab": 4},))
case("bool_map_keys", ({True: "t", False: "f"},))
case("none_map_key_alone", ({None: 1},))
case("array16_and_map16", (list(range(16)), {"k%02d" % i: i for i in reversed(range(16))}))
case("kwargs_sorted_by_name", (1,), {"zeta": 1, "alpha": [1, 2], "Mid": None})
case("kwargs_unicode_names", (), {"\u00e9": 1, "z": 2, "\u00e4": 3})
case("no_namespace", (1,), ns=None)
case("empty_namespace_means_none", (1,), ns="")
case("integrity_off_auto_serializer", (1,), ic=False, ser="auto")
case("serializer_orjson", (1,), ser="orjson")
case("serializer_arrow", (1,), ser="arrow")
case("serializer_local", (1,), ic=False, ser="local")
case("serializer_alias_std", (1,), ser="std")
case("serializer_alias_pythonic", (1,), ser="pythonic")
case("serializer_unknown_name", (1,), ser="msgpack")
case("serializer_custom_instance", (1,), ser="<custom>:MySerializer")
case("function_name_lambda_in_locals", (1,), module="my-app.handlers", qualname="Outer.<locals>.<lambda>")
case("function_name_dot_runs_collapse", (1,), module="pkg..sub", qualname="...f")
case("function_name_unicode", (1,), module="m\u00f3dulo", qualname="funci\u00f3n_\u00f1\U0001f389")
case("function_name_cut_to_200", (1,), module="m" * 150, qualname="f" * 150, ns=None)
case("key_of_250_chars_is_kept", (1,), module="m" * 100, qualname="f" * 71, ns=None)
case("key_of_251_chars_is_shortened", (1,), module="m" * 100, qualname="f" * 72, ns=None)
case("long_namespace_shortened", ("x",), ns="n" * 200)
case("namespace_whitespace_replaced", (1,), ns="my ns\nline\rx")
case("namespace_whitespace_then_shortened", (1,), ns="a b" * 70)
case("unicode_namespace_counts_code_points", (1,), ns="\u00e9" * 120)
case("unicode_namespace_shortened_on_code_points", (1,), ns="\u00e9" * 45 + "\U0001f389" * 10 + "z" * 150)
case("kwargs_only_nested", (), {"filters": {"status": ["a", "b"], "limit": 10}, "user_id": 42})

for name, args, kwargs, ns, module, qualname, ic, ser in cases:
    key = gen.generate_key(F(module, qualname), args, kwargs, namespace=ns, integrity_checking=ic, serializer_type=ser)
    opts = []
    if ns is not None: opts.append(".ns = %s" % sexpr(ns))
    if not ic: opts.append(".integrity_checking = false")
    if ser != "default": opts.append(".serializer = %s" % cstr(ser))
    print("    {%s," % cstr(name))
    print("     %s," % sexpr(module + "." + qualname))
    print("     {%s}," % ", ".join(opts))
    print("     {%s}," % ", ".join(cval(a) for a in args))
    print("     {%s}," % ", ".join("{%s, %s}" % (cstr(k), cval(v)) for k, v in kwargs.items()))
    print("     %s}," % cstr(key))
