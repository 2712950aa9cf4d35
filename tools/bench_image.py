#!/usr/bin/env python3
"""Camera to answer: decoding and preprocessing against the forward pass, vit-edge beside
what a Python user would run (Pillow + timm's eval transform; OpenCV's imdecode + resize),
one core, in one run.

Inputs: a real photo (scikit-image's coffee.png, CC0) scaled with Pillow's LANCZOS to
640x480, 1280x720 and 1920x1080 and saved as JPEG q90 (4:2:0), and the 1920x1080 one as a
raw NV12 frame (OpenCV's BGR -> I420, chroma interleaved). Model: a ViT-Ti/16 shape
(random weights, tools/make_vit_shapes.py) converted with timm's eval transform
(--crop-pct 0.875 --interpolation bicubic: shorter side to 256, bicubic, centre crop
224) and quantized to int8.

vit-edge's columns are `vit-edge bench MODEL --image FILE --threads 1 --json` (medians of
its iterations: decode, preprocess, forward p50), with `--jpeg-scale auto` for the
DCT-domain rows and `--raw nv12:1920x1080` for the frame. The peers, timed in this
process on the same core (medians of --runs calls per round, rounds interleaved with
vit-edge's): Pillow `open` + `load` + `convert("RGB")` (with `draft` for the scaled rows)
then timm's `create_transform` on the decoded image; OpenCV `imdecode` (IMREAD_COLOR, or
IMREAD_REDUCED_COLOR_2/4/8 for the scaled rows) then `cvtColor` to RGB, `resize`
(INTER_AREA to the shorter side 256), crop and normalise in numpy — not Pillow's pixels,
but what OpenCV users write; for NV12, `cvtColor(COLOR_YUV2RGB_NV12)` then the same.

    python3 tools/make_vit_shapes.py --out /tmp/vs --only ti     # once (and the wheel below)
    pip download --no-deps scikit-image==0.26.0 -d /tmp/wheels
    python3 tools/bench_image.py --shapes /tmp/vs --wheels /tmp/wheels [--rounds 5] [--runs 20]
"""
import argparse, glob, io, json, os, statistics, subprocess, sys, time, zipfile
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
BIN = os.path.join(ROOT, ".build", "release", "vit-edge")
CORE = 0


def photos(wheels, out):
    z = zipfile.ZipFile(glob.glob(os.path.join(wheels, "scikit_image*.whl"))[0])
    coffee = Image.open(io.BytesIO(z.read("skimage/data/coffee.png"))).convert("RGB")
    files = {}
    for w, h in [(640, 480), (1280, 720), (1920, 1080)]:
        p = os.path.join(out, f"photo{w}.jpg")
        coffee.resize((w, h), Image.LANCZOS).save(p, quality=90)
        files[f"{w}x{h} JPEG"] = p
    import cv2
    bgr = cv2.imread(files["1920x1080 JPEG"])
    i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
    h, w = bgr.shape[:2]
    u = i420[h:h + h // 4].reshape(-1)
    v = i420[h + h // 4:].reshape(-1)
    nv12 = np.concatenate([i420[:h].reshape(-1), np.stack([u, v], 1).reshape(-1)])
    p = os.path.join(out, "frame1920.nv12")
    nv12.tofile(p)
    files["1920x1080 NV12"] = p
    return files


def model(shapes):
    q = os.path.join(shapes, "vit-ti-timm-int8.vitq")
    if not os.path.exists(q):
        f = os.path.join(shapes, "vit-ti-timm.vitq")
        subprocess.run([BIN, "convert", os.path.join(shapes, "vit-ti.safetensors"), "--config", os.path.join(shapes, "vit-ti.json"),
                        "--crop-pct", "0.875", "--interpolation", "bicubic", "-o", f], check=True, capture_output=True)
        subprocess.run([BIN, "quantize", f, "-o", q], check=True, capture_output=True)
    return q


def vit_edge(model_path, path, scaled, runs):
    args = ["taskset", "-c", str(CORE), BIN, "bench", model_path, "--image", path, "--threads", "1", "--json",
            "--iterations", str(runs), "--warmup", "3"]
    if path.endswith(".nv12"):
        args += ["--raw", "nv12:1920x1080"]
    if scaled:
        args += ["--jpeg-scale", "auto"]
    j = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    return j["image"]["decode_ms"], j["image"]["preprocess_ms"], j["latency_ms"]["p50"]


def timed(f, runs):
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return statistics.median(t) * 1000


def peers(path, scaled, runs):
    """(Pillow decode, timm transform, OpenCV decode, OpenCV preprocess) in ms."""
    import cv2
    import torch_compat  # noqa: F401
    from timm.data import create_transform
    t = create_transform(input_size=(3, 224, 224), interpolation="bicubic", crop_pct=0.875, mean=(0.5,) * 3, std=(0.5,) * 3)
    mean = np.array([0.5] * 3, np.float32)

    def cv_pre(rgb):
        h, w = rgb.shape[:2]
        s = 256 / min(h, w)
        r = cv2.resize(rgb, (max(256, round(w * s)), max(256, round(h * s))), interpolation=cv2.INTER_AREA)
        y0, x0 = (r.shape[0] - 224) // 2, (r.shape[1] - 224) // 2
        crop = r[y0:y0 + 224, x0:x0 + 224].astype(np.float32) / 255
        return ((crop - mean) / 0.5).transpose(2, 0, 1).copy()

    if path.endswith(".nv12"):
        raw = np.fromfile(path, np.uint8).reshape(1080 * 3 // 2, 1920)
        rgb = cv2.cvtColor(raw, cv2.COLOR_YUV2RGB_NV12)
        return None, None, None, timed(lambda: cv_pre(cv2.cvtColor(raw, cv2.COLOR_YUV2RGB_NV12)), runs)
    data = open(path, "rb").read()
    full = Image.open(io.BytesIO(data))
    target = t.transforms[0](full.convert("RGB")).size

    def pil():
        im = Image.open(io.BytesIO(data))
        if scaled:
            im.draft("RGB", target)
        im.load()
        return im.convert("RGB")

    d = min(full.size[0] // target[0], full.size[1] // target[1])
    d = next((k for k in (8, 4, 2) if d >= k), 1)
    flag = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}[d if scaled else 1]
    buf = np.frombuffer(data, np.uint8)
    decoded = pil()
    bgr = cv2.imdecode(buf, flag)
    return (timed(pil, runs), timed(lambda: t(decoded), runs), timed(lambda: cv2.imdecode(buf, flag), runs),
            timed(lambda: cv_pre(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)), runs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shapes", default="/tmp/vs")
    p.add_argument("--wheels", default="/tmp/wheels")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    os.sched_setaffinity(0, {CORE})
    import torch
    torch.set_num_threads(1)
    import cv2
    cv2.setNumThreads(1)
    files = photos(args.wheels, args.shapes)
    m = model(args.shapes)
    # Scaled rows where the rule scales (640x480 -> shorter side 256 does not: 480 // 256 = 1).
    cases = [(k, v, False) for k, v in files.items()] + [(k, v, True) for k, v in files.items()
                                                         if k.endswith("JPEG") and int(k.split("x")[1].split()[0]) >= 512]
    ours = {c[:2] + (c[2],): [] for c in cases}
    theirs = {c[:2] + (c[2],): [] for c in cases}
    for _ in range(args.rounds):
        for c in cases:
            ours[c].append(vit_edge(m, c[1], c[2], args.runs))
            theirs[c].append(peers(c[1], c[2], args.runs))

    def med(rows, i):
        v = [r[i] for r in rows if r[i] is not None]
        return statistics.median(v) if v else None

    f = lambda v: "–" if v is None else f"{v:.2f}"
    print(f"one core (cpu {CORE}), medians of {args.rounds} interleaved rounds of {args.runs} runs; ViT-Ti/16 int8, timm bicubic crop 0.875")
    print("| input | vit-edge decode | preprocess | forward | (decode + preprocess) / forward | preprocess / forward "
          "| Pillow decode | timm transform | OpenCV decode | OpenCV preprocess |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in cases:
        dec, pre, fwd = (med(ours[c], i) for i in range(3))
        pd, pt, od, op = (med(theirs[c], i) for i in range(4))
        name = c[0] + (", --jpeg-scale auto" if c[2] else "")
        print(f"| {name} | {f(dec if not c[1].endswith('.nv12') else None)} | {f(pre)} | {f(fwd)} | "
              f"{100 * (dec + pre) / fwd:.0f}% | {100 * pre / fwd:.0f}% | {f(pd)} | {f(pt)} | {f(od)} | {f(op)} |")


if __name__ == "__main__":
    main()
