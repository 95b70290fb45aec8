"""The subset of CBOR (RFC 8949) that CTAP2 uses, encoded canonically as CTAP2 requires.

CTAP2's canonical form: shortest integer and length encodings, definite lengths only, and map
keys sorted by their encoded bytes, shorter first (CTAP 2.1 §8 "Message Encoding"). Decoding
accepts what a host sends (integers, byte and text strings, arrays, maps, booleans, null) and
rejects the rest with `CBORError`, which the key answers as CTAP2_ERR_INVALID_CBOR.
"""
import struct


class CBORError(ValueError):
    pass


def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if value < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | extra]) + struct.pack(fmt, value)
    raise CBORError(f"integer too large: {value}")


def encode(value) -> bytes:
    if value is False:
        return b"\xf4"
    if value is True:
        return b"\xf5"
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, (bytes, bytearray)):
        return _head(2, len(value)) + bytes(value)
    if isinstance(value, str):
        raw = value.encode()
        return _head(3, len(raw)) + raw
    if isinstance(value, (list, tuple)):
        return _head(4, len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, dict):
        items = sorted(((encode(k), encode(v)) for k, v in value.items()),
                       key=lambda kv: (len(kv[0]), kv[0]))
        return _head(5, len(items)) + b"".join(k + v for k, v in items)
    raise CBORError(f"cannot encode {type(value).__name__}")


def decode(data: bytes):
    """The one CBOR item `data` holds; trailing bytes are an error."""
    value, end = _decode(memoryview(bytes(data)), 0, depth=0)
    if end != len(data):
        raise CBORError("trailing bytes after the CBOR item")
    return value


def _decode(buf: memoryview, pos: int, depth: int):
    if depth > 8:
        raise CBORError("nested too deeply")
    if pos >= len(buf):
        raise CBORError("truncated")
    initial = buf[pos]
    major, info = initial >> 5, initial & 0x1F
    pos += 1
    if major == 7:
        simple = {20: False, 21: True, 22: None}
        if info in simple:
            return simple[info], pos
        raise CBORError(f"unsupported simple value or float 0x{initial:02x}")
    if info < 24:
        arg = info
    elif info <= 27:
        size = 1 << (info - 24)
        if pos + size > len(buf):
            raise CBORError("truncated")
        arg = int.from_bytes(buf[pos:pos + size], "big")
        pos += size
    else:
        raise CBORError("indefinite lengths are not allowed")
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        if pos + arg > len(buf):
            raise CBORError("truncated string")
        raw = bytes(buf[pos:pos + arg])
        pos += arg
        if major == 2:
            return raw, pos
        try:
            return raw.decode(), pos
        except UnicodeDecodeError as e:
            raise CBORError("text string is not UTF-8") from e
    if major == 4:
        items = []
        for _ in range(arg):
            item, pos = _decode(buf, pos, depth + 1)
            items.append(item)
        return items, pos
    if major == 5:
        result = {}
        for _ in range(arg):
            key, pos = _decode(buf, pos, depth + 1)
            if isinstance(key, (list, dict)):
                raise CBORError("map key is not a scalar")
            result[key], pos = _decode(buf, pos, depth + 1)
        return result, pos
    raise CBORError(f"unsupported major type {major} (tags)")
