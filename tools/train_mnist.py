#!/usr/bin/env python3
"""Train the shipped MNIST models with timm (or vit-pytorch) and export them as
safetensors + config.json.

The model is the one of the ViT tutorials: 28x28x1, patch 4 (49 patches + class
token), width 64, depth 6, 4 heads, MLP 128, timm `VisionTransformer` layout.
Trains on the 50k split, selects the epoch on the 10k validation split, reports the
10k test split. Run tools/fetch_mnist.py first.

    python3 tools/train_mnist.py --epochs 15 --seed 0 --out models/mnist-vit

--family mixer trains the MLP-Mixer of the same size in timm's `MlpMixer` layout:
patch 4 (49 tokens), width 64, depth 6, token MLP 49→32→49, channel MLP 128.
"""
import argparse, json, math, os, struct, time
import numpy as np
import torch
import torch.nn.functional as F

import torch_compat  # noqa: F401  (see its docstring)
import timm
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEAN, STD = 0.1307, 0.3081


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split, data_dir):
    x = read_idx(os.path.join(data_dir, f"{split}-images.idx3-ubyte"))
    y = read_idx(os.path.join(data_dir, f"{split}-labels.idx1-ubyte"))
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    return (x - MEAN) / STD, torch.from_numpy(y.astype(np.int64))


VIT_PYTORCH_ARGS = {"image_size": 28, "patch_size": 4, "num_classes": 10, "dim": 64, "depth": 4,
                    "heads": 4, "dim_head": 24, "mlp_dim": 128, "channels": 1, "pool": "mean"}


MIXER_ARGS = {"img_size": 28, "patch_size": 4, "in_chans": 1, "num_classes": 10, "embed_dim": 64,
              "num_blocks": 6, "mlp_ratio": [0.5, 2.0]}


def make_model(family="timm"):
    if family == "mixer":
        from timm.models.mlp_mixer import MlpMixer
        args = dict(MIXER_ARGS)
        args["mlp_ratio"] = tuple(args["mlp_ratio"])
        return MlpMixer(**args)
    if family == "vit-pytorch":
        # The second architecture: vit-pytorch's current layout, mean pooling (no class
        # token), patch LayerNorms, inner width 4 x 24 = 96 != width 64, no qkv bias.
        from vit_pytorch import ViT
        return ViT(**VIT_PYTORCH_ARGS)
    return timm.models.vision_transformer.VisionTransformer(
        img_size=28, patch_size=4, in_chans=1, num_classes=10, embed_dim=64, depth=6,
        num_heads=4, mlp_ratio=2.0, qkv_bias=True, global_pool="token")


def shift(x, max_shift=2):
    """Random translation by up to max_shift pixels (pad with background, crop)."""
    n = x.shape[0]
    bg = -MEAN / STD
    padded = F.pad(x, (max_shift,) * 4, value=bg)
    dx = torch.randint(0, 2 * max_shift + 1, (n,))
    dy = torch.randint(0, 2 * max_shift + 1, (n,))
    rows = (dy[:, None] + torch.arange(28)[None, :])  # [n, 28]
    cols = (dx[:, None] + torch.arange(28)[None, :])
    idx_n = torch.arange(n)[:, None, None]
    return padded[idx_n, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


@torch.no_grad()
def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=os.path.join(ROOT, "data"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "mnist-vit"))
    ap.add_argument("--family", choices=["timm", "vit-pytorch", "mixer"], default="timm")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    xtr, ytr = load("train", args.data)
    xva, yva = load("val", args.data)
    xte, yte = load("test", args.data)
    model = make_model(args.family)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    steps = args.epochs * math.ceil(len(xtr) / args.batch)
    warmup = math.ceil(len(xtr) / args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    best, best_state, start = -1.0, None, time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            loss = F.cross_entropy(model(shift(xtr[idx])), ytr[idx], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        val = accuracy(model, xva, yva)
        if val > best:
            best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f} val {val:.4f} "
              f"({time.time() - start:.0f} s)", flush=True)
    model.load_state_dict(best_state)
    test = accuracy(model, xte, yte)
    minutes = (time.time() - start) / 60
    print(f"best val {best:.4f}; test {test:.4f}; {minutes:.1f} min")
    os.makedirs(args.out, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              os.path.join(args.out, "model.safetensors"))
    if args.family == "vit-pytorch":
        config = dict(VIT_PYTORCH_ARGS)
        config["training"] = {"epochs": args.epochs, "seed": args.seed, "lr": args.lr, "batch": args.batch,
                              "best_val_accuracy": best, "test_accuracy": test, "minutes": round(minutes, 1),
                              "torch": torch.__version__, "mean": MEAN, "std": STD}
        with open(os.path.join(args.out, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        print(f"wrote {args.out}/model.safetensors and config.json")
        return
    # timm's config.json for both timm families: the architecture, its arguments, the
    # eval transform and how it was trained.
    if args.family == "mixer":
        architecture, pool = "mixer_mnist_patch4", "avg"
        model_args = {k: v for k, v in MIXER_ARGS.items() if k != "num_classes"}
    else:
        architecture, pool = "vit_mnist_patch4", "token"
        model_args = {"img_size": 28, "patch_size": 4, "in_chans": 1, "embed_dim": 64,
                      "depth": 6, "num_heads": 4, "mlp_ratio": 2.0, "qkv_bias": True}
    config = {
        "architecture": architecture,
        "num_classes": 10,
        "num_features": 64,
        "global_pool": pool,
        "model_args": model_args,
        "pretrained_cfg": {"input_size": [1, 28, 28], "mean": [MEAN], "std": [STD],
                           "interpolation": "bilinear", "crop_pct": 1.0},
        "label_names": [str(d) for d in range(10)],
        "training": {"epochs": args.epochs, "seed": args.seed, "lr": args.lr,
                     "batch": args.batch, "best_val_accuracy": best,
                     "test_accuracy": test, "minutes": round(minutes, 1),
                     "torch": torch.__version__, "timm": timm.__version__},
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(f"wrote {args.out}/model.safetensors and config.json")

if __name__ == "__main__":
    main()
