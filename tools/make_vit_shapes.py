#!/usr/bin/env python3
"""Write randomly initialised timm ViT-Ti/16, ViT-S/16 and ViT-B/16 (224x224, 1000
classes) checkpoints with their configs, for benchmarks (random weights are fine for
timing). Then convert and quantize them with vit-edge:

    python3 tools/make_vit_shapes.py --out /tmp/vit-shapes
    for n in ti s b; do
      vit-edge convert /tmp/vit-shapes/vit-$n.safetensors --config /tmp/vit-shapes/vit-$n.json -o /tmp/vit-shapes/vit-$n.vitq
      vit-edge quantize /tmp/vit-shapes/vit-$n.vitq -o /tmp/vit-shapes/vit-$n-int8.vitq
    done

`--deepvit` also writes vit-pytorch's ViT and DeepViT at ViT-Ti's shape (vitpt-ti,
deepvit-ti: the same model with and without re-attention) and T2T-ViT at ViT-Ti's width
(t2t-ti), with their keyword arguments as JSON, converted the same way (add
`--crop-pct 0.9 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225` for the checks below:
vit-pytorch records no eval transform, so the check's own is given), and checks for
deepvit-ti and t2t-ti as for Swin (below). `--swin` writes timm's Swin-T (swin_tiny_patch4_window7_224,
swin-t) with its config, and `--swin-check` also a PyTorch reference for it: a random
224x224 input and its logits (swin-t-check.safetensors), for `vit-edge`'s full-size parity;
`--pvt` the same for timm's PVT-v2-b0 (pvt-b0, pvt-b0-check.safetensors). Both checks also
hold timm's logits on the repository's real photos (Tests/VitEdgeTests/Fixtures/preprocess/
images, in name order) through timm's own eval transform (bicubic, crop_pct 0.9, as the
written config says), so the whole path from a photo file is compared.
"""
import argparse, glob, json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_compat  # noqa: F401
import timm
from safetensors.torch import save_file

SHAPES = {"ti": (192, 3), "s": (384, 6), "b": (768, 12)}

ap = argparse.ArgumentParser()
ap.add_argument("--out", default="/tmp/vit-shapes")
ap.add_argument("--only", nargs="*", default=list(SHAPES))
ap.add_argument("--deepvit", action="store_true", help="also vit-pytorch ViT and DeepViT at ViT-Ti's shape")
ap.add_argument("--swin", action="store_true", help="also timm's Swin-T")
ap.add_argument("--swin-check", action="store_true", help="with --swin: a random input and PyTorch's logits")
ap.add_argument("--pvt", action="store_true", help="also timm's PVT-v2-b0 and a random input with its logits (pvt-b0-check)")
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
torch.manual_seed(0)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTOS = sorted(glob.glob(os.path.join(ROOT, "Tests", "VitEdgeTests", "Fixtures", "preprocess", "images", "*")))
IMAGENET = {"input_size": [3, 224, 224], "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
            "interpolation": "bicubic", "crop_pct": 0.9, "crop_mode": "center"}


def check(m, path):
    """A random [2, 3, 224, 224] input and the real photos through timm's eval transform, with the logits."""
    from PIL import Image
    from timm.data import create_transform
    t = create_transform(input_size=IMAGENET["input_size"], interpolation="bicubic", crop_pct=0.9, crop_mode="center",
                         mean=IMAGENET["mean"], std=IMAGENET["std"])
    x = torch.randn(2, 3, 224, 224)
    photos = torch.stack([t(Image.open(p).convert("RGB")) for p in PHOTOS])
    with torch.no_grad():
        save_file({"input": x, "logits": m(x), "photo_logits": m(photos)}, path)


for name in args.only:
    dim, heads = SHAPES[name]
    m = timm.models.vision_transformer.VisionTransformer(img_size=224, patch_size=16, num_classes=1000,
                                                         embed_dim=dim, depth=12, num_heads=heads)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(args.out, f"vit-{name}.safetensors"))
    with open(os.path.join(args.out, f"vit-{name}.json"), "w") as f:
        json.dump({"model_args": {"num_heads": heads},
                   "pretrained_cfg": {"input_size": [3, 224, 224], "mean": [0.5] * 3, "std": [0.5] * 3}}, f)
    print(f"vit-{name}: {sum(p.numel() for p in m.parameters()) / 1e6:.1f} M parameters")
if args.deepvit:
    from vit_pytorch import ViT
    from vit_pytorch.deepvit import DeepViT
    kw = dict(image_size=224, patch_size=16, num_classes=1000, dim=192, depth=12, heads=3, mlp_dim=768, dim_head=64)
    for name, cls in (("vitpt-ti", ViT), ("deepvit-ti", DeepViT)):
        torch.manual_seed(0)
        m = cls(**kw).eval()
        save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(args.out, f"{name}.safetensors"))
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump(kw, f)
        print(f"{name}: {sum(p.numel() for p in m.parameters()) / 1e6:.2f} M parameters")
        if cls is DeepViT:
            check(m, os.path.join(args.out, f"{name}-check.safetensors"))
    # T2T-ViT at ViT-Ti's width, vit-pytorch's default soft splits (7/4, 3/2, 3/2: grids 56, 28, 14).
    from vit_pytorch.t2t import T2TViT
    torch.manual_seed(0)
    t2t = dict(image_size=224, num_classes=1000, dim=192, depth=12, heads=3, mlp_dim=768)
    m = T2TViT(**t2t).eval()
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(args.out, "t2t-ti.safetensors"))
    with open(os.path.join(args.out, "t2t-ti.json"), "w") as f:
        json.dump(t2t, f)
    print(f"t2t-ti: {sum(p.numel() for p in m.parameters()) / 1e6:.2f} M parameters")
    check(m, os.path.join(args.out, "t2t-ti-check.safetensors"))
if args.swin:
    torch.manual_seed(0)
    m = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False).eval()
    # Position tables of trained magnitude (timm initialises them at std 0.02).
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.endswith("relative_position_bias_table"):
                p.normal_(0, 1)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(args.out, "swin-t.safetensors"))
    with open(os.path.join(args.out, "swin-t.json"), "w") as f:
        json.dump({"architecture": "swin_tiny_patch4_window7_224", "model_args": {"window_size": 7}, "pretrained_cfg": IMAGENET}, f)
    print(f"swin-t: {sum(p.numel() for p in m.parameters()) / 1e6:.1f} M parameters")
    if args.swin_check:
        check(m, os.path.join(args.out, "swin-t-check.safetensors"))
if args.pvt:
    torch.manual_seed(0)
    m = timm.create_model("pvt_v2_b0", pretrained=False).eval()
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(args.out, "pvt-b0.safetensors"))
    with open(os.path.join(args.out, "pvt-b0.json"), "w") as f:
        json.dump({"architecture": "pvt_v2_b0", "pretrained_cfg": IMAGENET}, f)
    print(f"pvt-b0: {sum(p.numel() for p in m.parameters()) / 1e6:.2f} M parameters")
    check(m, os.path.join(args.out, "pvt-b0-check.safetensors"))
