#!/usr/bin/python3
"""benc.py EXPR: write the bencoding of a Python expression to stdout.

For crafting hostile torrents and replies in tests: EXPR may use dicts
(keys are bytes or str), lists, ints, bytes and str. Keys are written in
the order given (so tests can make unsorted dictionaries); sort them in
EXPR when canonical output matters. Helper names: sha1(bytes) -> bytes.
"""
import hashlib
import sys


def enc(v):
    if isinstance(v, bool):
        raise TypeError("no booleans in bencode")
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, (bytes, bytearray)):
        return b"%d:%s" % (len(v), bytes(v))
    if isinstance(v, list):
        return b"l" + b"".join(enc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(enc(k) + enc(x) for k, x in v.items()) + b"e"
    raise TypeError(type(v))


def sha1(b):
    return hashlib.sha1(b).digest()


if __name__ == "__main__":
    sys.stdout.buffer.write(enc(eval(sys.argv[1], {"sha1": sha1, "enc": enc})))
