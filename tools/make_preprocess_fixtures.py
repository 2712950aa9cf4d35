#!/usr/bin/env python3
"""Write Tests/VitEdgeTests/Fixtures/preprocess/: real photos, and what timm's eval
transform and Hugging Face's PIL image processors make of them, so the tests check
vit-edge's preprocessing against the ecosystem's own code, and the position-embedding
resampling of timm, DINO and Hugging Face models run at another input size.

    pip install -r tools/requirements.txt   (torch CPU, torchvision/timm --no-deps, transformers)
    pip download --no-deps matplotlib==3.10.* scikit-image==0.26.0 -d /tmp/wheels
    python3 tools/make_preprocess_fixtures.py /tmp/wheels

Photos (public domain or CC0), from the wheels of matplotlib and scikit-image:
grace_hopper.jpg (US Navy photo, public domain), skimage's chelsea.png (CC0, Stefan van
der Walt), coffee.png (CC0, Rachel Michetti), rocket.jpg (NASA, public domain). Derived
files (re-encoded, scaled, quantized) are made here with Pillow.

Each expected output is the transform's tensor before Normalize, times 255 (exact bytes:
ToTensor divides uint8 by 255), stored as an RGB PNG; cases.json gives the config the
converter sees (timm pretrained_cfg or preprocessor_config.json), mean and std.
"""
import io, json, math, os, sys, zipfile
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_compat  # noqa: F401,E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "VitEdgeTests", "Fixtures", "preprocess")
os.makedirs(os.path.join(OUT, "images"), exist_ok=True)
os.makedirs(os.path.join(OUT, "expected"), exist_ok=True)


def wheel_file(folder, package, name):
    for w in sorted(os.listdir(folder)):
        if w.startswith(package) and w.endswith(".whl"):
            with zipfile.ZipFile(os.path.join(folder, w)) as z:
                for n in z.namelist():
                    if n.endswith("/" + name):
                        return z.read(n)
    raise SystemExit(f"{name} not found in a {package} wheel in {folder}")


def photos(wheels):
    hopper = wheel_file(wheels, "matplotlib", "grace_hopper.jpg")
    chelsea = Image.open(io.BytesIO(wheel_file(wheels, "scikit_image", "chelsea.png"))).convert("RGB")
    coffee = Image.open(io.BytesIO(wheel_file(wheels, "scikit_image", "coffee.png"))).convert("RGB")
    rocket = Image.open(io.BytesIO(wheel_file(wheels, "scikit_image", "rocket.jpg"))).convert("RGB")

    def save(name, im=None, raw=None, **kw):
        path = os.path.join(OUT, "images", name)
        if raw is not None:
            open(path, "wb").write(raw)
        else:
            im.save(path, **kw)
        return name

    out = {
        # A camera JPEG as shipped: portrait, 4:2:0.
        "portrait-jpeg": save("hopper-portrait.jpg", raw=hopper),
        # Landscape JPEG, 4:4:4.
        "landscape-jpeg": save("cat-landscape.jpg", chelsea, quality=90, subsampling=0),
        # Progressive, 4:2:2, odd size.
        "progressive-jpeg": save("rocket-progressive.jpg", rocket.resize((321, 481), Image.LANCZOS), quality=85,
                                 progressive=True, subsampling=1),
        # Grayscale JPEG.
        "gray-jpeg": save("hopper-gray.jpg", Image.open(io.BytesIO(hopper)).convert("L"), quality=90),
        # Smaller than the input (upscaled): RGB PNG.
        "small-png": save("coffee-small.png", coffee.resize((150, 100), Image.LANCZOS)),
        # Palette PNG.
        "palette-png": save("cat-palette.png", chelsea.resize((226, 150), Image.LANCZOS).quantize(96)),
        # RGBA PNG (alpha dropped by convert("RGB")).
        "rgba-png": save("coffee-rgba.png", rgba(coffee.resize((240, 160), Image.LANCZOS))),
        # 16-bit gray PNG (Pillow: I;16, clipped to 255 by convert).
        "gray16-png": save("rocket-gray16.png", gray16(rocket.resize((120, 180), Image.LANCZOS))),
    }
    return out


def rgba(im):
    a = np.linspace(40, 255, im.width, dtype=np.float64)[None, :].repeat(im.height, 0).astype(np.uint8)
    return Image.fromarray(np.dstack([np.asarray(im), a]))


def gray16(im):
    g = np.asarray(im.convert("L")).astype(np.uint16)  # values 0..255 in a 16-bit PNG
    return Image.fromarray(g.astype("<u2"))


def pil_rgb(path):
    im = Image.open(path)
    im.load()
    return im.convert("RGB")  # what timm's dataset and HF's processors feed the transform


def save_expected(name, tensor_before_normalize):
    t = tensor_before_normalize.numpy()
    scaled = t * 255
    assert np.abs(scaled - np.round(scaled)).max() < 1e-3, "ToTensor output is not bytes / 255"
    arr = np.round(scaled).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(arr, "RGB").save(os.path.join(OUT, "expected", name), optimize=True)
    return name


def pil_draft(path, transform):
    """The photo as Pillow decodes it in draft mode for the size the transform's Resize
    makes of it: libjpeg's DCT-domain 1/2, 1/4 or 1/8 scaling (vit-edge --jpeg-scale auto)."""
    target = transform.transforms[0](pil_rgb(path)).size
    im = Image.open(path)
    im.draft("RGB", target)
    im.load()
    return im.convert("RGB")


def timm_case(image, tag, cfg, size, draft=False):
    """cfg: a timm pretrained_cfg (what config.json carries). draft: decode the JPEG in
    Pillow's draft mode first (the case then says "jpeg_scale": "auto")."""
    from timm.data import resolve_data_config, create_transform
    data = resolve_data_config(pretrained_cfg=dict(cfg, input_size=[3, *size]))
    t = create_transform(**data, is_training=False)
    path = os.path.join(OUT, "images", image)
    decode = (lambda: pil_draft(path, t)) if draft else (lambda: pil_rgb(path))
    if draft:
        assert decode().size != pil_rgb(path).size, "draft mode did not scale this photo"
    # Everything but Normalize (the last step): bytes / 255 exactly.
    before = t.transforms[:-1]
    x = decode()
    for step in before:
        x = step(x)
    full = t(decode())
    mean, std = list(data["mean"]), list(data["std"])
    # The normalized tensor is (x - mean) / std of the saved bytes: check it.
    ref = (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    assert torch.equal(ref, full)
    name = save_expected(f"{os.path.splitext(image)[0]}.{tag}.png", x)
    case = {"image": image, "family": "timm", "config": dict(cfg, input_size=[3, *size]), "input": list(size),
            "mean": mean, "std": std, "expected": name,
            "transform": ("Image.draft, " if draft else "") + repr(t).replace("\n", " ")}
    if draft:
        case["jpeg_scale"] = "auto"
    return case


def hf_case(image, tag, processor_cls, overrides, size):
    p = processor_cls(**overrides)
    x = pil_rgb(os.path.join(OUT, "images", image))
    out = p(images=x, return_tensors="pt", do_normalize=False)["pixel_values"][0]
    full = p(images=x, return_tensors="pt")["pixel_values"][0]
    cfg = p.to_dict()
    cfg = {k: v for k, v in cfg.items() if k in ("image_processor_type", "do_resize", "size", "resample", "do_center_crop",
                                                  "crop_size", "do_rescale", "rescale_factor", "do_normalize", "image_mean",
                                                  "image_std")}
    mean, std = list(cfg["image_mean"]), list(cfg["image_std"])
    ref = (out - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    assert (ref - full).abs().max() < 1e-5, (ref - full).abs().max()
    assert tuple(out.shape[1:]) == tuple(size), out.shape
    name = save_expected(f"{os.path.splitext(image)[0]}.{tag}.png", out)
    return {"image": image, "family": "huggingface", "config": cfg, "input": list(size), "mean": mean, "std": std,
            "expected": name, "transform": processor_cls.__name__ + " " + json.dumps(overrides)}


def preprocessing_cases(im):
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil
    from transformers.models.deit.image_processing_pil_deit import DeiTImageProcessorPil
    half = {"mean": [0.5] * 3, "std": [0.5] * 3}
    inet = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    cases = [
        # timm ViT (augreg): bicubic, crop_pct 0.9.
        timm_case(im["portrait-jpeg"], "timm-bicubic-0.9", dict(interpolation="bicubic", crop_pct=0.9, **half), (224, 224)),
        timm_case(im["landscape-jpeg"], "timm-bicubic-0.9", dict(interpolation="bicubic", crop_pct=0.9, **half), (224, 224)),
        timm_case(im["small-png"], "timm-bicubic-0.9", dict(interpolation="bicubic", crop_pct=0.9, **half), (224, 224)),
        # timm DeiT: bicubic, 0.875, ImageNet statistics.
        timm_case(im["progressive-jpeg"], "timm-bicubic-0.875", dict(interpolation="bicubic", crop_pct=0.875, **inet), (224, 224)),
        timm_case(im["palette-png"], "timm-bicubic-0.875", dict(interpolation="bicubic", crop_pct=0.875, **inet), (224, 224)),
        # Bilinear, crop_pct 1.0 and 0.95.
        timm_case(im["gray-jpeg"], "timm-bilinear-1.0", dict(interpolation="bilinear", crop_pct=1.0, **half), (224, 224)),
        timm_case(im["rgba-png"], "timm-bilinear-0.95", dict(interpolation="bilinear", crop_pct=0.95, **inet), (224, 224)),
        timm_case(im["gray16-png"], "timm-bilinear-0.95", dict(interpolation="bilinear", crop_pct=0.95, **inet), (224, 224)),
        # Squash mode; a non-square input (ResizeKeepRatio); a small model input.
        timm_case(im["landscape-jpeg"], "timm-squash-0.9", dict(interpolation="bicubic", crop_pct=0.9, crop_mode="squash", **half), (224, 224)),
        timm_case(im["portrait-jpeg"], "timm-center-160x224", dict(interpolation="bicubic", crop_pct=0.875, **half), (160, 224)),
        timm_case(im["portrait-jpeg"], "timm-bicubic-0.875-32", dict(interpolation="bicubic", crop_pct=0.875, **half), (32, 32)),
        # Draft mode (DCT-domain scaled decoding, --jpeg-scale auto): 1/2 (4:2:0 colour),
        # 1/8 (a small input), 1/2 (gray).
        timm_case(im["portrait-jpeg"], "timm-bicubic-0.875-draft", dict(interpolation="bicubic", crop_pct=0.875, **half), (224, 224), draft=True),
        timm_case(im["portrait-jpeg"], "timm-bicubic-0.875-32-draft", dict(interpolation="bicubic", crop_pct=0.875, **half), (32, 32), draft=True),
        timm_case(im["gray-jpeg"], "timm-bilinear-1.0-draft", dict(interpolation="bilinear", crop_pct=1.0, **half), (224, 224), draft=True),
        # Hugging Face: ViT (bilinear to 224x224), DeiT (bicubic to 256x256, crop 224),
        # shortest_edge + crop.
        hf_case(im["portrait-jpeg"], "hf-vit", ViTImageProcessorPil, {}, (224, 224)),
        hf_case(im["palette-png"], "hf-vit", ViTImageProcessorPil, {}, (224, 224)),
        hf_case(im["landscape-jpeg"], "hf-deit", DeiTImageProcessorPil, {}, (224, 224)),
        hf_case(im["small-png"], "hf-deit", DeiTImageProcessorPil, {}, (224, 224)),
        hf_case(im["progressive-jpeg"], "hf-shortest-edge", DeiTImageProcessorPil,
                {"size": {"shortest_edge": 241}, "crop_size": {"height": 224, "width": 224}}, (224, 224)),
    ]
    return cases


def sensitive(model):
    """Weights of unit gain (not the tiny init scales), so the logits are O(1) and depend
    on the position embedding: the conventions then give clearly different outputs."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "pos" in name or "position" in name:
                p.normal_(std=1.0)
            elif p.dim() >= 2:
                p.normal_(std=1.0 / math.sqrt(p[0].numel()))
            else:
                p.normal_(mean=1.0 if "norm" in name or "layernorm" in name else 0.0, std=0.2)


def position_cases():
    """Small models of each family, run by their own code at a larger and a smaller input:
    the logits vit-edge must reproduce after resampling the position embeddings its way."""
    from safetensors.torch import save_file
    from timm.models.vision_transformer import VisionTransformer
    from timm.layers import resample_abs_pos_embed
    out = {}
    cases = []
    d = os.path.join(OUT, "position")
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(11)
    base = VisionTransformer(img_size=28, patch_size=4, in_chans=1, num_classes=10, embed_dim=32, depth=2,
                             num_heads=2, mlp_ratio=2.0).eval()
    sensitive(base)
    state = base.state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(d, "timm.safetensors"))
    json.dump({"architecture": "vit_test", "model_args": {"num_heads": 2},
               "pretrained_cfg": {"input_size": [1, 28, 28], "mean": [0.5], "std": [0.5]}},
              open(os.path.join(d, "timm-config.json"), "w"), indent=1)
    g = torch.Generator().manual_seed(12)
    for size in (44, 20):
        x = torch.randn(2, 1, size, size, generator=g)
        out[f"input_{size}"] = x
        # timm: the checkpoint loaded into a model made at the new size
        # (checkpoint_filter_fn -> resample_abs_pos_embed, bicubic, antialias).
        m = VisionTransformer(img_size=size, patch_size=4, in_chans=1, num_classes=10, embed_dim=32, depth=2,
                              num_heads=2, mlp_ratio=2.0).eval()
        st = dict(state)
        st["pos_embed"] = resample_abs_pos_embed(state["pos_embed"], new_size=(size // 4, size // 4),
                                                 num_prefix_tokens=1, interpolation="bicubic", antialias=True)
        m.load_state_dict(st)
        with torch.no_grad():
            out[f"timm_{size}"] = m(x)
            # DINO's interpolate_pos_encoding (facebookresearch/dino vision_transformer.py).
            pe = state["pos_embed"]
            n = pe.shape[1] - 1
            w0 = h0 = size // 4
            w0, h0 = w0 + 0.1, h0 + 0.1
            patch = F.interpolate(pe[:, 1:].reshape(1, int(math.sqrt(n)), int(math.sqrt(n)), -1).permute(0, 3, 1, 2),
                                  scale_factor=(w0 / math.sqrt(n), h0 / math.sqrt(n)), mode="bicubic")
            assert int(w0) == patch.shape[-2] and int(h0) == patch.shape[-1]
            dino_pe = torch.cat([pe[:, :1], patch.permute(0, 2, 3, 1).reshape(1, -1, pe.shape[-1])], dim=1)
            st2 = dict(state)
            st2["pos_embed"] = dino_pe
            m.load_state_dict(st2)
            out[f"dino_{size}"] = m(x)
    # Hugging Face ViT with interpolate_pos_encoding=True.
    from transformers import ViTConfig, ViTForImageClassification
    torch.manual_seed(13)
    cfg = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=28,
                    patch_size=4, num_channels=1, num_labels=10)
    hf = ViTForImageClassification(cfg).eval()
    sensitive(hf)
    save_file({k: v.contiguous() for k, v in hf.state_dict().items()}, os.path.join(d, "hf.safetensors"))
    json.dump(cfg.to_dict(), open(os.path.join(d, "hf-config.json"), "w"), indent=1)
    with torch.no_grad():
        for size in (44, 20):
            out[f"huggingface_{size}"] = hf(pixel_values=out[f"input_{size}"], interpolate_pos_encoding=True).logits
    save_file({k: v.contiguous().float() for k, v in out.items()}, os.path.join(d, "expected.safetensors"))


def exif_cases():
    """A 13x7 picture saved with each EXIF orientation (JPEG APP1, and one PNG eXIf),
    beside what Pillow's ImageOps.exif_transpose makes of it (binary PPM)."""
    from PIL import ImageOps
    d = os.path.join(OUT, "exif")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(5)
    base = Image.fromarray(rng.integers(0, 256, (7, 13, 3), dtype=np.uint8))
    for o in range(1, 9):
        ex = Image.Exif()
        ex[0x0112] = o
        for ext, kw in ((".jpg", dict(quality=95, subsampling=0)), (".png", {})):
            if ext == ".png" and o not in (1, 6):
                continue
            path = os.path.join(d, f"orientation-{o}{ext}")
            base.save(path, exif=ex.tobytes(), **kw)
            upright = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
            w, h = upright.size
            open(path + ".expected.ppm", "wb").write(b"P6\n%d %d\n255\n" % (w, h) + upright.tobytes())


def main():
    wheels = sys.argv[1] if len(sys.argv) > 1 else "/tmp/wheels"
    im = photos(wheels)
    cases = preprocessing_cases(im)
    json.dump(cases, open(os.path.join(OUT, "cases.json"), "w"), indent=1)
    position_cases()
    exif_cases()
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print(f"{len(cases)} preprocessing cases, position fixtures; {total // 1024} KiB in {OUT}")


if __name__ == "__main__":
    main()
