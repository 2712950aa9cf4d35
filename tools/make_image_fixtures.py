#!/usr/bin/env python3
"""Write Tests/VitEdgeTests/Fixtures/images/: small JPEGs and PNGs of every kind the
decoders take, each beside the pixels Pillow gives for it (as a binary PGM or PPM: one
channel where Pillow's mode is grayscale, "L"/"I;16"/"1"/"LA", three otherwise, as
vit-edge decodes them), so the tests check vit-edge's decoding against Pillow's exactly.

    pip install pillow numpy && python3 tools/make_image_fixtures.py
"""
import io, os, struct, zlib
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "VitEdgeTests", "Fixtures", "images")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)


def scene(w, h):
    """A smooth picture with some texture (JPEG artefacts and chroma matter)."""
    x = np.linspace(0, 5, w)[None, :, None]
    y = np.linspace(0, 3, h)[:, None, None]
    c = np.array([1.0, 0.6, 0.3])[None, None, :]
    img = 128 + 90 * np.sin(x * c * 3 + y) + 30 * rng.standard_normal((h, w, 3))
    return img.clip(0, 255).astype(np.uint8)


def expected(name, data):
    im = Image.open(io.BytesIO(data))
    gray = im.mode in ("L", "I;16", "I;16B", "1", "LA", "I")  # vit-edge: 1 channel (gray+alpha too)
    arr = np.asarray(im.convert("L" if gray else "RGB"))
    h, w = arr.shape[:2]
    header = b"P5" if gray else b"P6"
    with open(os.path.join(OUT, name + ".expected." + ("pgm" if gray else "ppm")), "wb") as f:
        f.write(header + b"\n%d %d\n255\n" % (w, h) + arr.tobytes())


def save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    expected(name, data)


def pil_bytes(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def png_raw(w, h, depth, ctype, rows, plte=None, trns=None, interlaced_from=None):
    """A PNG from filter-0 scanlines; `interlaced_from` (an 8-bit array [h, w, c]) writes
    the Adam7 passes instead (Pillow cannot write interlaced PNGs)."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    if interlaced_from is not None:
        raw = b""
        for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
            sub = interlaced_from[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += b"".join(b"\x00" + sub[y].tobytes() for y in range(sub.shape[0]))
    else:
        raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlaced_from is not None else 0))
    if plte:
        out += chunk(b"PLTE", plte)
    if trns:
        out += chunk(b"tRNS", trns)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def packed_rows(vals, depth):
    rows = []
    for row in vals:
        bits = "".join(format(int(v), "0%db" % depth) for v in row)
        bits += "0" * (-len(bits) % 8)
        rows.append(int(bits, 2).to_bytes(len(bits) // 8, "big"))
    return rows


# JPEG: chroma subsampling 4:2:0, 4:2:2, 4:4:4, odd sizes, grayscale, progressive, low quality.
rgb = Image.fromarray(scene(37, 29))
save("jpeg-420.jpg", pil_bytes(rgb, "JPEG", quality=90, subsampling=2))
save("jpeg-422-odd.jpg", pil_bytes(Image.fromarray(scene(33, 19)), "JPEG", quality=75, subsampling=1))
save("jpeg-444.jpg", pil_bytes(rgb, "JPEG", quality=95, subsampling=0))
save("jpeg-gray.jpg", pil_bytes(rgb.convert("L"), "JPEG", quality=85))
save("jpeg-progressive.jpg", pil_bytes(rgb, "JPEG", quality=80, progressive=True))
save("jpeg-q20.jpg", pil_bytes(rgb, "JPEG", quality=20))

# PNG: every colour type and bit depth, palette with transparency, interlaced.
W, H = 11, 7
save("png-rgb8.png", pil_bytes(Image.fromarray(scene(W, H)), "PNG"))
save("png-rgba8.png", pil_bytes(Image.fromarray(np.dstack([scene(W, H), rng.integers(0, 256, (H, W), dtype=np.uint8)]), "RGBA"), "PNG"))
save("png-rgb8-interlaced.png", png_raw(W, H, 8, 2, None, interlaced_from=scene(W, H)))
save("png-gray8.png", pil_bytes(Image.fromarray(scene(W, H)[:, :, 0]), "PNG"))
for depth in (1, 2, 4):
    v = rng.integers(0, 2 ** depth, (H, W))
    save("png-gray%d.png" % depth, png_raw(W, H, depth, 0, packed_rows(v, depth)))
    pal = bytes(rng.integers(0, 256, 3 * 2 ** depth, dtype=np.uint8))
    save("png-palette%d-trns.png" % depth, png_raw(W, H, depth, 3, packed_rows(v, depth), plte=pal, trns=bytes([0, 90])))
ga = rng.integers(0, 256, (H, W, 2), dtype=np.uint8)
save("png-gray-alpha8.png", png_raw(W, H, 8, 4, [ga[y].tobytes() for y in range(H)]))
g16 = rng.integers(0, 700, (H, W)).astype(">u2")  # values above 255: Pillow clips them
save("png-gray16.png", png_raw(W, H, 16, 0, [g16[y].tobytes() for y in range(H)]))
rgb16 = rng.integers(0, 65536, (H, W, 3)).astype(">u2")
save("png-rgb16.png", png_raw(W, H, 16, 2, [rgb16[y].tobytes() for y in range(H)]))
rgba16 = rng.integers(0, 65536, (H, W, 4)).astype(">u2")
save("png-rgba16.png", png_raw(W, H, 16, 6, [rgba16[y].tobytes() for y in range(H)]))
ga16 = rng.integers(0, 65536, (H, W, 2)).astype(">u2")
save("png-gray-alpha16.png", png_raw(W, H, 16, 4, [ga16[y].tobytes() for y in range(H)]))


# EXIF orientation beyond Pillow's own writer: the entry as LONG or BYTE, in either byte
# order, past the 1024th entry, in a directory cut short, several values; a PNG eXIf after
# IDAT (Pillow reads it when the image loads), before and after (the last wins). Each
# beside what ImageOps.exif_transpose gives (Fixtures/images/exif/).
def tiff(entries, little=True, cut=None):
    e = "<" if little else ">"
    body = (b"II*\0" if little else b"MM\0*") + struct.pack(e + "I", 8) + struct.pack(e + "H", len(entries))
    for tag, typ, count, value in entries:
        if typ in (3, 8):
            v = struct.pack(e + "HH", value, 0)
        elif typ in (1, 6):
            v = bytes([value, 0, 0, 0])
        else:
            v = struct.pack(e + "I", value)
        body += struct.pack(e + "HHI", tag, typ, count) + v
    body += struct.pack(e + "I", 0)
    return body[:cut] if cut else body


def png_chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


EXIF = os.path.join(OUT, "exif")
os.makedirs(EXIF, exist_ok=True)
from PIL import ImageOps  # noqa: E402
picture = Image.fromarray(scene(13, 7))
plain_jpeg = pil_bytes(picture, "JPEG", quality=95, subsampling=0)
filler = [(0x9000 + i, 3, 1, 0) for i in range(1100)]
jpeg_cases = {
    "long-be-6": tiff([(0x0112, 4, 1, 6)], little=False),
    "long-le-3": tiff([(0x0112, 4, 1, 3)]),
    "byte-5": tiff([(0x0112, 1, 1, 5)]),  # Pillow gives bytes: no turn
    "sshort-be-7": tiff([(0x0112, 8, 1, 7)], little=False),
    "first-entry-wins-6": tiff([(0x0112, 3, 1, 6), (0x0112, 3, 1, 3)]),
    "entry-1101-8": tiff(filler + [(0x0112, 3, 1, 8)]),
    "two-values": tiff([(0x0112, 3, 2, 6)]),  # the first value counts
    "cut-after-entry-6": tiff([(0x0112, 3, 1, 6), (0x0100, 3, 1, 7), (0x0101, 3, 1, 7)], cut=8 + 2 + 12 + 5),
}
for name, block in jpeg_cases.items():
    app1 = b"Exif\0\0" + block
    data = plain_jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + plain_jpeg[2:]
    path = os.path.join(EXIF, name + ".jpg")
    open(path, "wb").write(data)
    upright = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    open(path + ".expected.ppm", "wb").write(b"P6\n%d %d\n255\n" % upright.size + upright.tobytes())
plain_png = pil_bytes(picture, "PNG")
iend = plain_png.rindex(b"IEND") - 4
png_cases = {
    "exif-after-idat-6": (None, tiff([(0x0112, 3, 1, 6)])),
    "exif-before-3-after-6": (tiff([(0x0112, 3, 1, 3)]), tiff([(0x0112, 3, 1, 6)])),
    "exif-prefixed-6": (b"Exif\0\0" + tiff([(0x0112, 3, 1, 6)]), None),
}
for name, (before, after) in png_cases.items():
    ihdr_end = 8 + 25
    data = plain_png[:ihdr_end] + (png_chunk(b"eXIf", before) if before else b"") + plain_png[ihdr_end:iend] \
        + (png_chunk(b"eXIf", after) if after else b"") + plain_png[iend:]
    path = os.path.join(EXIF, name + ".png")
    open(path, "wb").write(data)
    # exif_transpose loads the image first: every eXIf is read, the last one wins.
    upright = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    open(path + ".expected.ppm", "wb").write(b"P6\n%d %d\n255\n" % upright.size + upright.tobytes())
print("wrote", len(os.listdir(OUT)) + len(os.listdir(EXIF)) - 1, "files to", OUT)
