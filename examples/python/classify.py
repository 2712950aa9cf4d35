#!/usr/bin/env python3
"""Classifies images with a vit-edge model from Python through the C API (ctypes, no
third-party packages) and prints what `vit-edge run MODEL IMAGES --top-k K` prints.

    python3 examples/python/classify.py models/mnist-vit-int8.vitq --top-k 2 models/samples/*.pgm

PGM/PPM files are read here and handed over as pixels (vit_session_set_pixels), the way
an application passes camera frames or its own decoder's output; other files (JPEG, PNG)
go through the engine's decoders. The library: $VIT_EDGE_LIB, else the build folder of
this repository, else libvitedge.so on the loader's path.
"""
import ctypes
import math
import os
import sys

VIT_OK = 0
VIT_PIXEL_GRAY8, VIT_PIXEL_RGB24 = 0, 1
ABI_VERSION = 1  # VIT_EDGE_ABI_VERSION of the vit_edge.h this script follows


def load_library():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.environ.get("VIT_EDGE_LIB"), os.path.join(here, "..", "..", ".build", "release", "libvitedge.so"),
                 "libvitedge.so"):
        if path and (path == "libvitedge.so" or os.path.exists(path)):
            lib = ctypes.CDLL(path)
            break
    p, i, c, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t
    for name, res, args in [
        ("vit_edge_version", c, []), ("vit_edge_abi_version", i, []), ("vit_last_error", c, []),
        ("vit_model_load", i, [c, c, ctypes.POINTER(p)]), ("vit_model_free", None, [p]),
        ("vit_model_num_classes", i, [p]), ("vit_model_label", c, [p, i]),
        ("vit_session_create", i, [p, i, i, ctypes.POINTER(p)]), ("vit_session_free", None, [p]),
        ("vit_session_set_pixels", i, [p, i, i, ctypes.c_char_p, sz, i, i, sz]),
        ("vit_session_set_image_file", i, [p, i, c]), ("vit_session_run", i, [p, i]),
        ("vit_session_top_k", i, [p, i, i, ctypes.POINTER(i), ctypes.POINTER(ctypes.c_float)]),
    ]:
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


class VitEdgeError(Exception):
    pass


def check(lib, status):
    if status != VIT_OK:
        raise VitEdgeError(lib.vit_last_error().decode())


def read_pnm(path):
    """(format, width, height, pixels) of an 8-bit binary PGM (P5) or PPM (P6), else None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] not in (b"P5", b"P6"):
        return None
    fields, pos = [], 2
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(int(data[start:pos]))
    width, height, maxval = fields
    if maxval != 255:
        return None
    channels = 1 if data[:2] == b"P5" else 3
    pixels = data[pos + 1:pos + 1 + width * height * channels]
    return (VIT_PIXEL_GRAY8 if channels == 1 else VIT_PIXEL_RGB24), width, height, pixels


def percent(p):
    """The CLI's percentage: rounded half away from zero to two decimals."""
    x = float(p) * 100.0 * 100.0
    r = math.floor(x)
    if x - r >= 0.5:
        r += 1
    return "%.2f%%" % (r / 100.0)


def main(argv):
    if len(argv) < 3:
        print("usage: classify.py MODEL.vitq [--top-k K] IMAGE...", file=sys.stderr)
        return 2
    lib = load_library()
    if lib.vit_edge_abi_version() != ABI_VERSION:
        print("classify.py: libvitedge %s has ABI %d, this script follows %d"
              % (lib.vit_edge_version().decode(), lib.vit_edge_abi_version(), ABI_VERSION), file=sys.stderr)
        return 1
    args, top_k = argv[2:], 3
    if args[:1] == ["--top-k"]:
        top_k, args = int(args[1]), args[2:]
    model, session = ctypes.c_void_p(), ctypes.c_void_p()
    try:
        check(lib, lib.vit_model_load(argv[1].encode(), None, ctypes.byref(model)))
        check(lib, lib.vit_session_create(model, 1, 1, ctypes.byref(session)))
        k = min(top_k, lib.vit_model_num_classes(model))
        classes, probabilities = (ctypes.c_int * k)(), (ctypes.c_float * k)()
        failures = 0
        for path in args:
            try:
                pnm = read_pnm(path)
                if pnm:
                    fmt, width, height, pixels = pnm
                    check(lib, lib.vit_session_set_pixels(session, 0, fmt, pixels, len(pixels), width, height, 0))
                else:
                    check(lib, lib.vit_session_set_image_file(session, 0, path.encode()))
            except (VitEdgeError, OSError, ValueError) as e:
                print("classify.py: %s: %s" % (path, e), file=sys.stderr)
                failures += 1
                continue
            check(lib, lib.vit_session_run(session, 1))
            check(lib, lib.vit_session_top_k(session, 0, k, classes, probabilities))
            print(path)
            for rank in range(k):
                label = lib.vit_model_label(model, classes[rank]).decode()
                print("  %d. %-12s %8s" % (rank + 1, label, percent(probabilities[rank])))
        return 1 if failures else 0
    except VitEdgeError as e:
        print("classify.py: %s" % e, file=sys.stderr)
        return 1
    finally:
        lib.vit_session_free(session)
        lib.vit_model_free(model)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
