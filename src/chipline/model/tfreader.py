"""Read TensorFlow checkpoints without TensorFlow: SSTables, V2 TensorBundles, V1 tensor slices.

Only what Magenta writes is supported: uncompressed table blocks, little-endian tensors of
float32/float64/int32/int64, one shard. Field numbers are those of tensor_bundle.proto,
saved_tensor_slice.proto, tensor.proto and tensor_shape.proto.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from chipline.errors import ModelError

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_BYTES = 48
_DTYPES: dict[int, type[np.generic]] = {
    1: np.float32,
    2: np.float64,
    3: np.int32,
    9: np.int64,
}  # TF DataType enum values
Fields = dict[int, list[object]]


class _Corrupt(Exception):
    """Internal: the bytes do not parse; callers turn it into a ModelError with the file name."""


def varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a protobuf/LevelDB varint at `pos`; returns (value, next position)."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Corrupt("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def parse_proto(buf: bytes) -> Fields:
    """Split a protobuf message into {field number: [values]} (ints, or bytes for the rest)."""
    fields: Fields = {}
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: object
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise _Corrupt(f"unsupported protobuf wire type {wire}")
        if pos > len(buf):
            raise _Corrupt("truncated protobuf message")
        fields.setdefault(number, []).append(value)
    return fields


def first(fields: Fields, number: int, default: object = None) -> object:
    """The first value of a field, or `default`."""
    values = fields.get(number)
    return values[0] if values else default


def first_int(fields: Fields, number: int, default: int = 0) -> int:
    """The first value of a varint field, or `default`."""
    value = first(fields, number, default)
    if not isinstance(value, int):
        raise _Corrupt(f"field {number} is not a varint")
    return value


def first_bytes(fields: Fields, number: int) -> bytes:
    """The first value of a length-delimited field, or b""."""
    value = first(fields, number, b"")
    if not isinstance(value, bytes):
        raise _Corrupt(f"field {number} is not length-delimited")
    return value


def read_table(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Every (key, value) of a LevelDB-format SSTable held in `data`, in key order."""
    if len(data) < _FOOTER_BYTES:
        raise _Corrupt("too short for a table footer")
    footer = data[-_FOOTER_BYTES:]
    if struct.unpack("<Q", footer[-8:])[0] != _TABLE_MAGIC:
        raise _Corrupt("bad table magic (not a TensorFlow checkpoint table)")
    _, pos = varint(footer, 0)
    _, pos = varint(footer, pos)
    index_offset, pos = varint(footer, pos)
    index_size, _ = varint(footer, pos)
    for _, handle in _block_entries(data, index_offset, index_size):
        offset, pos = varint(handle, 0)
        size, _ = varint(handle, pos)
        yield from _block_entries(data, offset, size)


def _block_entries(data: bytes, offset: int, size: int) -> Iterator[tuple[bytes, bytes]]:
    if offset + size + 5 > len(data):
        raise _Corrupt("block runs past the end of the file")
    if data[offset + size] != 0:
        raise _Corrupt("compressed table block (only uncompressed checkpoints are supported)")
    block = data[offset : offset + size]
    num_restarts = struct.unpack("<I", block[-4:])[0]
    end = size - 4 - 4 * num_restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = varint(block, pos)
        unshared, pos = varint(block, pos)
        value_len, pos = varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, block[pos : pos + value_len]
        pos += value_len


def _shape(shape_proto: bytes) -> tuple[int, ...]:
    dims = parse_proto(shape_proto).get(2, [])
    return tuple(first_int(parse_proto(d), 1) for d in dims)  # type: ignore[arg-type]


def _dtype(code: int, name: str) -> type[np.generic]:
    if code not in _DTYPES:
        raise _Corrupt(f"{name}: unsupported dtype code {code}")
    return _DTYPES[code]


def read_bundle(prefix: Path) -> dict[str, np.ndarray]:
    """All tensors of a V2 checkpoint `prefix` (`prefix.index` + `prefix.data-00000-of-00001`)."""
    index_path = Path(f"{prefix}.index")
    try:
        index = index_path.read_bytes()
        entries = {key.decode(): parse_proto(value) for key, value in read_table(index)}
    except OSError as e:
        raise ModelError(f"{index_path}: cannot read checkpoint index ({e.strerror})") from e
    except (_Corrupt, UnicodeDecodeError) as e:
        raise ModelError(f"{index_path}: corrupt checkpoint index ({e})") from e
    header = entries.pop("", {})
    num_shards = first_int(header, 1, 1)
    if num_shards != 1:
        raise ModelError(f"{index_path}: {num_shards} data shards; only 1 is supported")
    data_path = Path(f"{prefix}.data-00000-of-00001")
    try:
        data = data_path.read_bytes()
    except OSError as e:
        raise ModelError(f"{data_path}: cannot read checkpoint data ({e.strerror})") from e
    tensors: dict[str, np.ndarray] = {}
    for name, entry in entries.items():
        try:
            dtype = _dtype(first_int(entry, 1), name)
            shape = _shape(first_bytes(entry, 2))
            offset, size = first_int(entry, 4), first_int(entry, 5)
        except _Corrupt as e:
            raise ModelError(f"{index_path}: {e}") from e
        if offset + size > len(data) or size != np.dtype(dtype).itemsize * int(np.prod(shape)):
            raise ModelError(f"{data_path}: tensor {name} lies outside the file; truncated?")
        little = np.dtype(dtype).newbyteorder("<")
        array = np.frombuffer(data, dtype=little, count=size // little.itemsize, offset=offset)
        tensors[name] = array.reshape(shape).astype(dtype)
    return tensors


def read_v1_checkpoint(data: bytes, where: str) -> dict[str, np.ndarray]:
    """All tensors of a V1 (tensor-slice) checkpoint file held in `data`."""
    try:
        return _read_v1(data)
    except (_Corrupt, UnicodeDecodeError, ValueError) as e:
        raise ModelError(f"{where}: corrupt embedded checkpoint ({e})") from e


def _read_v1(data: bytes) -> dict[str, np.ndarray]:
    metas: dict[str, tuple[type[np.generic], tuple[int, ...]]] = {}
    tensors: dict[str, np.ndarray] = {}
    for key, value in read_table(data):
        saved = parse_proto(value)
        if key == b"":
            for tensor_meta in parse_proto(first_bytes(saved, 1)).get(1, []):
                meta = parse_proto(tensor_meta)  # type: ignore[arg-type]
                name = first_bytes(meta, 1).decode()
                metas[name] = (_dtype(first_int(meta, 3), name), _shape(first_bytes(meta, 2)))
                tensors[name] = np.zeros(metas[name][1], metas[name][0])
            continue
        saved_slice = parse_proto(first_bytes(saved, 2))
        name = first_bytes(saved_slice, 1).decode()
        if name not in metas:
            raise _Corrupt(f"slice of unknown tensor {name!r}")
        dtype, shape = metas[name]
        region = _slice_region(first_bytes(saved_slice, 2), shape)
        values = _tensor_values(parse_proto(first_bytes(saved_slice, 3)), dtype)
        tensors[name][region] = values.reshape(tensors[name][region].shape)
    return tensors


def _slice_region(slice_proto: bytes, shape: tuple[int, ...]) -> tuple[slice, ...]:
    extents = parse_proto(slice_proto).get(1, [])
    if not extents:
        return tuple(slice(None) for _ in shape)
    region = []
    for dim, extent in zip(shape, extents, strict=False):
        fields = parse_proto(extent)  # type: ignore[arg-type]
        start = first_int(fields, 1)
        length = first_int(fields, 2, -1)  # absent: to the end
        region.append(slice(start, dim if length < 0 else start + length))
    return tuple(region)


def _tensor_values(proto: Fields, dtype: type[np.generic]) -> np.ndarray:
    content = first_bytes(proto, 4)
    if content:
        return np.frombuffer(content, np.dtype(dtype).newbyteorder("<")).astype(dtype)
    code = np.dtype(dtype).str[1:]  # "f4", "f8", "i4", "i8"
    field = {"f4": 5, "f8": 6, "i4": 7, "i8": 10}[code]
    fixed = {"f4": "<f4", "f8": "<f8"}.get(code)
    out: list[np.ndarray] = []
    for raw in proto.get(field, []):
        if isinstance(raw, int):  # an unpacked varint element
            out.append(np.array([raw], dtype))
        elif fixed is not None:
            out.append(np.frombuffer(raw, fixed).astype(dtype))  # type: ignore[call-overload,unused-ignore]
        else:
            out.append(np.array(_varints(raw), dtype))  # type: ignore[arg-type]
    return np.concatenate(out) if out else np.zeros(0, dtype)


def _varints(buf: bytes) -> list[int]:
    values, pos = [], 0
    while pos < len(buf):
        value, pos = varint(buf, pos)
        values.append(value)
    return values
