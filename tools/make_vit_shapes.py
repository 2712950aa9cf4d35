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
deepvit-ti: the same model with and without re-attention), with their keyword arguments
as JSON, converted the same way.
"""
import argparse, json, os, sys
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
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
torch.manual_seed(0)
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
