"""Tests of the `vitedge` package as installed from its wheel (make test-python): results
equal to `vit-edge run --json`, every pixel layout equal to RGB on the same photo, every
error path a Python exception. VITEDGE_CLI names the vit-edge binary to compare with;
VITEDGE_SUBSET=1 runs the short subset used under qemu (say so in the output)."""
import json, os, subprocess, threading

import numpy as np
import pytest

import vitedge

REPO = os.environ.get("VITEDGE_REPO") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("VITEDGE_CLI") or os.path.join(REPO, "dist", "vit-edge")
SUBSET = os.environ.get("VITEDGE_SUBSET") == "1"
FP32 = os.path.join(REPO, "models", "mnist-vit.vitq")
INT8 = os.path.join(REPO, "models", "mnist-vit-int8.vitq")
PHOTO = os.path.join(REPO, "models", "photos", "digit7.jpg")
FIXTURES = os.path.join(REPO, "Tests", "VitEdgeTests", "Fixtures")
SAMPLES = sorted(os.path.join(REPO, "models", "samples", f) for f in os.listdir(os.path.join(REPO, "models", "samples")))
if SUBSET:
    SAMPLES = SAMPLES[:3]


def read_pnm(path):
    """An 8-bit binary PGM/PPM as a uint8 array [H, W] or [H, W, 3]."""
    data = open(path, "rb").read()
    fields, pos = [], 2
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(int(data[pos:end]))
        pos = end
    w, h, maxval = fields
    assert maxval == 255
    pixels = np.frombuffer(data, dtype=np.uint8, count=w * h * (3 if data[:2] == b"P6" else 1), offset=pos + 1)
    return pixels.reshape((h, w, 3) if data[:2] == b"P6" else (h, w))


def cli(model, images):
    out = subprocess.run([CLI, "run", model, *images, "--json", "--top-k", "3"], capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture(scope="module", params=[FP32, INT8], ids=["fp32", "int8"])
def model_path(request):
    return request.param


def test_installed_package():
    if os.environ.get("VITEDGE_EXPECT_INSTALLED"):
        assert "site-packages" in vitedge.__file__ or "dist-packages" in vitedge.__file__, vitedge.__file__
        assert os.path.dirname(vitedge.library_path).endswith(os.path.join("vitedge", "_lib")), vitedge.library_path
    assert vitedge.version == subprocess.run([CLI, "--version"], capture_output=True, text=True).stdout.strip()


def test_classify_and_logits_equal_the_cli(model_path):
    model = vitedge.Model(model_path)
    expected = cli(model_path, SAMPLES + [PHOTO])
    # One image at a time (a path), and the whole list in batches.
    for path, e in zip(SAMPLES + [PHOTO], expected):
        top = model.classify(path, top_k=3)
        assert [label for label, _ in top] == [t["label"] for t in e["top"]]
        assert np.allclose([p for _, p in top], [t["probability"] for t in e["top"]], rtol=0, atol=1e-6)
    logits = model.logits(SAMPLES + [PHOTO])
    assert logits.dtype == np.float32 and logits.shape == (len(SAMPLES) + 1, 10)
    assert np.array_equal(logits, np.array([e["logits"] for e in expected], dtype=np.float32))
    # The same digits as uint8 arrays (PGM pixels) give the same logits, bit for bit.
    arrays = [read_pnm(p) for p in SAMPLES]
    assert np.array_equal(model.logits(arrays), logits[:-1])
    probabilities = model.probabilities(arrays)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    # Encoded bytes, as read from a socket or a camera's JPEG.
    assert np.array_equal(model.logits(open(PHOTO, "rb").read()), logits[-1:])


def test_info():
    model = vitedge.Model(INT8)
    i = model.info
    assert i["architecture"] == "vit" and i["input_size"] == (28, 28) and i["channels"] == 1
    assert i["classes"] == 10 and i["labels"] == [str(d) for d in range(10)] and i["int8"] is True
    assert i["embedding_size"] == 64 and i["blocks"] == 6 and i["heads"] == 4 and i["tokens"] == 50
    assert i["kernels"]
    assert vitedge.Model(FP32).info["int8"] is False
    assert "28x28x1" in repr(model)


def test_layouts_of_one_photo_give_the_rgb_result():
    model = vitedge.Model(FP32)
    # Pillow's pixels of a JPEG photo (the fixture beside it), as numpy RGB.
    jpeg = os.path.join(FIXTURES, "images", "jpeg-420.jpg")
    rgb = read_pnm(jpeg + ".expected.ppm")
    want = model.logits(rgb)
    assert np.array_equal(want, model.logits(jpeg))
    h, w, _ = rgb.shape
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    x = np.full((h, w, 1), 255, dtype=np.uint8)
    layouts = {
        "bgr": (bgr, "bgr"),
        "bgr view (negative stride: copied)": (rgb[:, :, ::-1], "bgr"),
        "rgbx": (np.concatenate([rgb, x], axis=2), None),
        "rgba": (np.concatenate([rgb, x // 3], axis=2), "rgba"),
        "bgrx": (np.concatenate([bgr, x], axis=2), "bgrx"),
        "float32 RGB": (rgb.astype(np.float32) / 255, None),
    }
    # Padded rows (Picamera2 pads to 64 bytes) and a crop of a larger frame: strided, no copy.
    padded = np.zeros((h, w + 13, 4), dtype=np.uint8)
    padded[:, :w, :3] = bgr
    layouts["bgrx, padded rows"] = (padded[:, :w], "bgrx")
    frame = np.zeros((h + 20, w + 40, 3), dtype=np.uint8)
    frame[10:10 + h, 30:30 + w] = rgb
    layouts["crop of a larger frame"] = (frame[10:10 + h, 30:30 + w], None)
    for name, (array, fmt) in layouts.items():
        got = model.logits(array, format=fmt)
        if name == "float32 RGB":
            # Floats take the float resampler path: the same picture, not the same bits.
            assert np.argmax(got) == np.argmax(want), name
        else:
            assert np.array_equal(got, want), name
    gray = read_pnm(os.path.join(FIXTURES, "images", "jpeg-gray.jpg.expected.pgm"))
    assert np.array_equal(model.logits(gray), model.logits(gray[:, :, None]))


def test_yuv420_as_picamera2_returns_it():
    model = vitedge.Model(FP32)
    w, h = 64, 48
    frame = np.fromfile(os.path.join(FIXTURES, "camera", "i420-64x48.yuv"), dtype=np.uint8).reshape(h * 3 // 2, w)
    rgb = read_pnm(os.path.join(FIXTURES, "camera", "i420-64x48.opencv.ppm"))  # OpenCV's cvtColor of it
    assert np.array_equal(model.logits(frame, format="yuv420"), model.logits(rgb))
    with pytest.raises(ValueError, match="H and W even"):
        model.logits(frame[:71], format="yuv420")


def test_embed_and_attention():
    model = vitedge.Model(FP32)
    e = model.embed(SAMPLES[:2])
    assert e.shape == (2, 64) and e.dtype == np.float32
    t = model.tokens(SAMPLES[:2])
    assert t.shape == (2, 50, 64) and model.info["prefix_tokens"] == 1 and model.info["patch_grid"] == (7, 7)
    assert np.array_equal(t[:, 0], e)  # class-token pooling: the embedding is the class token's row
    a = model.attention(PHOTO, block=-1)
    assert a.shape == (4, 50, 50)
    assert np.allclose(a.sum(axis=2), 1, atol=1e-4)
    with pytest.raises(ValueError, match="block"):
        model.attention(PHOTO, block=6)


def test_errors_are_exceptions_never_crashes(tmp_path):
    model = vitedge.Model(INT8)
    with pytest.raises(vitedge.IOFailureError, match="nonexistent") as e:
        model.classify("/nonexistent/photo.jpg")
    assert isinstance(e.value, vitedge.Error) and isinstance(e.value, OSError) and e.value.status == 2
    with pytest.raises(ValueError, match="C 1, 3 or 4"):
        model.logits(np.zeros((28, 28, 5), dtype=np.uint8))
    with pytest.raises(TypeError, match="float32"):
        model.logits(np.zeros((28, 28), dtype=np.float64))
    with pytest.raises(TypeError, match="a path, encoded bytes or a numpy array"):
        model.logits(42)
    with pytest.raises(ValueError, match="format"):
        model.logits(np.zeros((28, 28, 3), dtype=np.uint8), format="hsv")
    with pytest.raises(ValueError, match="cannot be format='bgr'"):
        model.logits(np.zeros((28, 28), dtype=np.uint8), format="bgr")
    with pytest.raises(ValueError, match="numpy arrays"):
        model.logits(PHOTO, format="bgr")
    with pytest.raises(ValueError, match="at least one pixel"):
        model.logits(np.zeros((0, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match="no images"):
        model.logits([])
    nan = np.full((28, 28), 0.5, dtype=np.float32)
    nan[3, 4] = np.nan
    with pytest.raises(vitedge.InvalidArgumentError, match="finite"):
        model.logits(nan)
    with pytest.raises(vitedge.BadImageError, match="bad image"):
        model.logits(b"\xff\xd8\xff\xe0 not really a JPEG")
    with pytest.raises(vitedge.BadImageError):
        model.logits(open(os.path.join(REPO, "Makefile"), "rb").read())
    bad = tmp_path / "bad.vitq"
    bad.write_bytes(open(INT8, "rb").read()[:1000])
    with pytest.raises(vitedge.BadModelError, match="not a valid .vitq model"):
        vitedge.Model(bad)
    with pytest.raises(vitedge.BadModelError):
        vitedge.Model.from_bytes(b"VITQ" + bytes(100))
    with pytest.raises(vitedge.InvalidArgumentError, match="kernels"):
        vitedge.Model(INT8, kernels="turbo")
    with pytest.raises(ValueError, match="threads"):
        vitedge.Model(INT8, threads=0)
    with pytest.raises(TypeError, match="from_bytes"):
        vitedge.Model(open(INT8, "rb").read())
    with pytest.raises(TypeError, match="path"):
        vitedge.Model(None)
    with pytest.raises(ValueError, match="top_k"):
        model.classify(PHOTO, top_k=0)
    # A frame of an extreme aspect ratio is served, bounded by the output, not aborted.
    assert model.logits(np.full((1, 65536), 90, dtype=np.uint8)).shape == (1, 10)
    # Still usable after every error above.
    assert model.classify(PHOTO, top_k=1)[0][0] == "7"


def test_model_from_bytes_and_image_size():
    data = open(FP32, "rb").read()
    assert np.array_equal(vitedge.Model.from_bytes(data).logits(PHOTO), vitedge.Model(FP32).logits(PHOTO))
    bigger = vitedge.Model(FP32, image_size=56)
    assert bigger.info["input_size"] == (56, 56) and bigger.info["tokens"] == 197


@pytest.mark.skipif(SUBSET, reason="subset: threads are covered natively")
def test_threads_share_a_model():
    model = vitedge.Model(INT8, threads=1)
    arrays = [read_pnm(p) for p in SAMPLES]
    want = model.logits(arrays)
    results, errors = [None] * 4, []

    def work(k):
        try:
            for _ in range(20):
                got = model.logits(arrays)
                if not np.array_equal(got, want):
                    errors.append(f"thread {k} differs")
            results[k] = True
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(results)
