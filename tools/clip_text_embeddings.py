#!/usr/bin/env python3
"""Text embeddings of a list of labels, for a CLIP or SigLIP zero-shot head on the board.

Runs the model's own text tower here, on the PC, and writes what
`vit-edge convert --text-embeddings FILE` folds into the image tower's head:

    text_embeds   [labels, width]  each label's embedding (prompts averaged), L2-normalised
    logit_scale   [1]              the model's logit_scale.exp()
    logit_bias    [1]              SigLIP's logit_bias (absent for CLIP)
    metadata      labels (a JSON list), template, source, probabilities (softmax for CLIP:
                  over the labels; sigmoid for SigLIP: each label on its own, as it was trained)

Hugging Face (a folder or hub name with CLIPModel or SiglipModel weights and its tokenizer):
    python3 tools/clip_text_embeddings.py --hf openai/clip-vit-base-patch32 --labels labels.txt -o text.safetensors
    python3 tools/clip_text_embeddings.py --hf google/siglip-base-patch16-224 --labels labels.txt -o text.safetensors
open_clip (an architecture and its pretrained tag or file):
    python3 tools/clip_text_embeddings.py --open-clip ViT-B-32 --pretrained openai --labels labels.txt -o text.safetensors
then
    vit-edge convert model.safetensors --config config.json --text-embeddings text.safetensors -o clip.vitq
    vit-edge run clip.vitq photo.jpg      # prints the labels, with no text model on the board

--template may be given several times ("a photo of a {}.", "a drawing of a {}."): each
label's prompts are embedded, normalised, averaged and normalised again (CLIP's prompt
ensembling). Needs torch and transformers or open_clip (tools/requirements.txt).
"""
import argparse, json, os, sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_compat  # noqa: F401  (open_clip imports torchvision)


def write_text_embeddings(path, text_embeds, logit_scale, labels, templates, source, logit_bias=None):
    """The file `vit-edge convert --text-embeddings` reads (docs/FORMAT.md). A logit_bias
    (SigLIP) makes the head's probabilities a sigmoid per label."""
    e = text_embeds.detach().float()
    e = e / e.norm(dim=-1, keepdim=True)
    tensors = {"text_embeds": e.contiguous(), "logit_scale": torch.tensor([float(logit_scale)])}
    if logit_bias is not None:
        tensors["logit_bias"] = torch.tensor([float(logit_bias)])
    save_file(tensors, path, metadata={"format": "pt", "labels": json.dumps(list(labels)),
                                       "template": json.dumps(list(templates)), "source": source,
                                       "probabilities": "softmax" if logit_bias is None else "sigmoid"})


def ensemble(embed_prompts, labels, templates):
    """Each label's prompts embedded (a function of a list of strings), normalised, averaged."""
    rows = []
    for label in labels:
        e = embed_prompts([t.format(label) for t in templates]).float()
        e = e / e.norm(dim=-1, keepdim=True)
        rows.append(e.mean(dim=0))
    return torch.stack(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--hf", help="Hugging Face CLIPModel or SiglipModel: a folder or hub name (with its tokenizer)")
    src.add_argument("--open-clip", help="open_clip architecture, e.g. ViT-B-32")
    ap.add_argument("--pretrained", help="open_clip pretrained tag or checkpoint file")
    ap.add_argument("--labels", required=True, help="a text file, one label per line")
    ap.add_argument("--template", action="append", help="prompt with {} for the label (default 'a photo of a {}.')")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    labels = [l.strip() for l in open(a.labels, encoding="utf-8") if l.strip()]
    if not labels:
        sys.exit(f"{a.labels}: no labels")
    templates = a.template or ["a photo of a {}."]
    with torch.no_grad():
        bias = None
        if a.hf:
            from transformers import AutoModel, AutoTokenizer
            model = AutoModel.from_pretrained(a.hf).eval()
            tok = AutoTokenizer.from_pretrained(a.hf)
            siglip = hasattr(model, "logit_bias")
            # SigLIP was trained on prompts padded to the tokenizer's full length.
            padding = "max_length" if siglip else True

            def embed(prompts):
                out = model.get_text_features(**tok(prompts, padding=padding, return_tensors="pt"))
                return out if torch.is_tensor(out) else out.pooler_output
            scale, source = model.logit_scale.exp().item(), f"transformers {type(model).__name__} {a.hf}"
            bias = model.logit_bias.item() if siglip else None
        else:
            import open_clip
            model, _, _ = open_clip.create_model_and_transforms(a.open_clip, pretrained=a.pretrained)
            model.eval()
            tok = open_clip.get_tokenizer(a.open_clip)

            def embed(prompts):
                return model.encode_text(tok(prompts))
            scale, source = model.logit_scale.exp().item(), f"open_clip {a.open_clip} {a.pretrained or ''}".strip()
            if getattr(model, "logit_bias", None) is not None:  # open_clip's SigLIP models
                bias = model.logit_bias.item()
        text = ensemble(embed, labels, templates)
    write_text_embeddings(a.output, text, scale, labels, templates, source, logit_bias=bias)
    print(f"wrote {a.output}: {len(labels)} labels, width {text.shape[1]}, logit scale {scale:.4g}"
          + (f", bias {bias:.4g} (sigmoid per label)" if bias is not None else ""))


if __name__ == "__main__":
    main()
