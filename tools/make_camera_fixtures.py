#!/usr/bin/env python3
"""Write Tests/VitEdgeTests/Fixtures/camera/: raw YUV 4:2:0 camera frames (NV12 and I420,
as Picamera2, rpicam-vid and ffmpeg hand them over) beside the RGB pixels OpenCV's
cvtColor gives for them (COLOR_YUV2RGB_NV12 / _I420: BT.601 limited range, the chroma of
each pixel's 2x2 block), and the same RGB picture after timm's eval transform (Pillow's
bicubic resize of the shorter side to 32, centre crop to 28), so the tests check vit-edge's
camera path against what OpenCV and Picamera2 users compare with.

    pip install opencv-python-headless pillow numpy && python3 tools/make_camera_fixtures.py
"""
import os
import numpy as np
import cv2
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "VitEdgeTests", "Fixtures", "camera")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(11)


def frame(w, h):
    """A smooth scene with saturated patches and noise, as YUV that covers the whole range
    (Y below 16 and above 235, chroma at both ends) so clipping is exercised."""
    x = np.linspace(0, 6, w)[None, :]
    y = np.linspace(0, 4, h)[:, None]
    luma = (128 + 110 * np.sin(x + y) + 25 * rng.standard_normal((h, w))).clip(0, 255).astype(np.uint8)
    cw, ch = w // 2, h // 2
    u = (128 + 127 * np.sin(2 * x[:, ::2] - y[::2]) + 10 * rng.standard_normal((ch, cw))).clip(0, 255).astype(np.uint8)
    v = (128 + 127 * np.cos(x[:, ::2] + 3 * y[::2]) + 10 * rng.standard_normal((ch, cw))).clip(0, 255).astype(np.uint8)
    return luma, u, v


def save_ppm(path, rgb):
    h, w = rgb.shape[:2]
    open(path, "wb").write(b"P6\n%d %d\n255\n" % (w, h) + rgb.tobytes())


for (w, h) in [(64, 48), (96, 54)]:
    luma, u, v = frame(w, h)
    nv12 = np.concatenate([luma, np.stack([u, v], -1).reshape(h // 2, w)], 0)
    i420 = np.concatenate([luma.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(h * 3 // 2, w)
    for name, yuv, code in [("nv12", nv12, cv2.COLOR_YUV2RGB_NV12), ("i420", i420, cv2.COLOR_YUV2RGB_I420)]:
        rgb = cv2.cvtColor(yuv, code)
        base = os.path.join(OUT, f"{name}-{w}x{h}")
        open(base + ".yuv", "wb").write(yuv.tobytes())
        save_ppm(base + ".opencv.ppm", rgb)
        # timm's eval transform at 28 (crop_pct 0.875: shorter side to 32, bicubic), on OpenCV's RGB.
        im = Image.fromarray(rgb)
        s = 32
        rw, rh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
        im = im.resize((rw, rh), Image.BICUBIC)
        left, top = int(round((rw - 28) / 2.0)), int(round((rh - 28) / 2.0))
        save_ppm(base + ".timm28.ppm", np.asarray(im.crop((left, top, left + 28, top + 28))))
print("wrote", len(os.listdir(OUT)), "files to", OUT)
