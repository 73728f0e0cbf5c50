"""Writes seed inputs for kiln-runtime-fuzzer: well-formed calls of
fuzz/runtime/model.onnxtxt (X float[B,S,16], M int64[B,S], V float[S],
W float[16,8]; outputs Y and R) at a few sizes, with runtime-allocated and
caller-provided outputs, in the byte layout runtime_fuzzer.c decodes.

    /usr/bin/python3 fuzz/runtime/make_seeds.py DIR
"""
import pathlib
import random
import struct
import sys

F32, I64 = 0, 7


def tensor(dtype, dims, esize, rng):
    n = esize
    for d in dims:
        n *= d
    # dtype, rank, dims (values < 20 as themselves), capacity, present, data
    b = bytes([dtype, len(dims)]) + bytes(dims) + struct.pack("<H", n) + b"\x01"
    if dtype == I64:
        return b + b"".join(struct.pack("<q", rng.randrange(-3, 4))
                            for _ in range(n // 8))
    return b + b"".join(struct.pack("<f", rng.uniform(-1, 1))
                        for _ in range(n // 4))


def output(caller, capacity):
    # dtype, rank (filled in by the run), capacity, caller buffer or not
    return bytes([F32, 0]) + struct.pack("<H", capacity) + bytes([caller])


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    for i, (b, s) in enumerate([(2, 3), (1, 1), (0, 4), (3, 5)]):
        seed = bytes([0, 4, 2])  # flags, inputs, outputs
        seed += tensor(F32, [b, s, 16], 4, rng) + tensor(I64, [b, s], 8, rng)
        seed += tensor(F32, [s], 4, rng) + tensor(F32, [16, 8], 4, rng)
        seed += output(i % 2, b * s * 8 * 4) + output(0, 0)
        (out / f"seed_{i}").write_bytes(seed)


if __name__ == "__main__":
    main()
