#!/usr/bin/env python3
"""Exports the benchmark models at the sizes users run (dims left dynamic).

    /usr/bin/python3 bench/make_models.py OUTDIR [--only NAME ...]

Models (PyTorch 1.13 exports, random weights, fixed seed):
  bert_base            BERT-base, 12 x 768, opset 14
  bert_4x256           BERT, 4 layers x 256 (4 heads, FFN 1024), opset 14
  gpt2_4x256           GPT-2 style, 4 x 256 with a KV cache per layer, opset 14
  llama_4x256          LLaMA style (RMSNorm, RoPE, GQA 8/4 heads, SwiGLU), opset 14
  llama_8x1024_decode  the same with a KV cache per layer, 8 x 1024 (GQA 16/4
                       heads, SwiGLU 2816; ~420 MB of fp32 weights), opset 14
  vit_4x256            ViT, 224 x 224 images, patch 16, 4 x 256, opset 14
  transformer_encoder_3x256  torch.nn.TransformerEncoder, 3 x 256, opset 14
  resnet18_224         torchvision ResNet-18, 224 x 224, opset 13 (--cnn)
  mobilenet_v3_small_224  torchvision MobileNetV3-small, 224 x 224, opset 13 (--cnn)
  regnet_y_400mf_224, resnext50_224, shufflenet_v2_224 (opsets 14, 13, 13),
  swin_t_224 (17), resnet50_224, efficientnet_b0_224, mobilenet_v2_224 (13)
                       torchvision 0.14's models of those names, random
                       weights, batch dynamic (--cnn)
  deeplabv3_mbv3_520, lraspp_mbv3_520  torchvision's segmentation models
                       (MobileNetV3-large backbone) at 520 x 520, their
                       "out" map, opset 13 (--cnn)
  densenet121_224, inception_v3_299, alexnet_224  torchvision's, opset 13
                       (--cnn)
  bert_base_ort        BERT-base in the form ONNX Runtime's transformer optimizer
                       writes: com.microsoft EmbedLayerNormalization,
                       Attention, SkipLayerNormalization, FastGelu (built with
                       onnx.helper by test/e2e/ort_contrib.py, opset 17)
  gpt2_4x256_ort_decode  GPT-2 4 x 256 in the form ONNX Runtime's GPT-2
                       optimizer writes (com.microsoft Attention with past
                       [2, B, H, P, D] and present per layer,
                       SkipLayerNormalization, FastGelu), benchmarked as a
                       decode step on a 512-token cache
  bert_base_fp16, llama_8x1024_decode_fp16, resnet18_224_fp16
                       the same models written in fp16 as converters ship
                       them (test/models/to_half.py: weights, inputs and
                       outputs fp16), made from the fp32 files (exported
                       first when missing)
The architectures are the ones of test/models/export_models.py. Two more
names are hard links for other benchmark shapes of the same files (see
run_bench.py's SHAPES): bert_base_b8 (batch 8) and gpt2_4x256_decode (one
new token on a 512-token KV cache).
"""

import argparse
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "models"))
import export_models as em  # noqa: E402

BERT_4x256 = em.BertConfig(8000, 256, 4, 4, 1024, 512, 2, 1e-12)
GPT2_4x256 = em.GPT2Config(8000, 256, 4, 4, 1024, 1e-5)
# 8 x 1024 (~440 MB of fp32 weights, beyond every cache): a decode step is
# bound by how fast its weights stream from memory.
GPT2_8x1024 = em.GPT2Config(8000, 1024, 8, 16, 1024, 1e-5)
LLAMA_4x256 = em.LlamaConfig(8000, 256, 4, 8, 4, 688, 1e-6, 10000.0)
LLAMA_8x1024 = em.LlamaConfig(8000, 1024, 8, 16, 4, 2816, 1e-6, 10000.0)
VIT_4x256 = em.ViTConfig(224, 16, 256, 4, 4, 1024, 1000, 1e-6)


class Encoder3x256(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=3, enable_nested_tensor=False)

    def forward(self, src):
        with torch.enable_grad():  # see export_models.TransformerEncoderModel
            return self.encoder(src)


CNN = {"resnet18_224", "mobilenet_v3_small_224", "regnet_y_400mf_224",
       "resnext50_224", "shufflenet_v2_224", "swin_t_224", "resnet50_224",
       "efficientnet_b0_224", "mobilenet_v2_224", "deeplabv3_mbv3_520",
       "lraspp_mbv3_520", "densenet121_224", "inception_v3_299", "alexnet_224"}


def _torchvision(name, **kw):
    """A torchvision model with random weights (the exports users make)."""
    def build():
        import torchvision.models as tvm  # noqa: E402
        return getattr(tvm, name)(weights=None, **kw)
    return build


class _SegOut(nn.Module):
    """A torchvision segmentation model's "out" map (its forward returns a
    dict)."""
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)["out"]


def _segmentation(name):
    def build():
        import torchvision.models.segmentation as seg  # noqa: E402
        kw = {"aux_loss": False} if name.startswith("deeplab") else {}
        return _SegOut(getattr(seg, name)(weights=None, weights_backbone=None, **kw))
    return build

MODELS = {
    "bert_base": em.MODELS["bert_base"],
    "bert_4x256": em.ModelSpec(lambda: em.Bert(BERT_4x256), 14, em._BERT_INPUTS,
                               em._BERT_OUTPUTS, em._BERT_AXES),
    "gpt2_4x256": em._gpt2_spec(GPT2_4x256),
    "gpt2_8x1024_decode": em._gpt2_spec(GPT2_8x1024),
    "llama_4x256": em.ModelSpec(lambda: em.Llama(LLAMA_4x256), 14,
                                [("input_ids", (2, 8), "int64")], ["logits"],
                                {"input_ids": em.BS, "logits": em.BS}),
    "llama_8x1024_decode": em._llama_kv_spec(LLAMA_8x1024),
    "vit_4x256": em.ModelSpec(lambda: em.ViT(VIT_4x256), 14,
                              [("pixel_values", (2, 3, 224, 224), "float32")], ["logits"],
                              {"pixel_values": {0: "batch"}, "logits": {0: "batch"}}),
    "resnet18_224": em._image_spec(em.build_resnet18, 13, 224),
    "mobilenet_v3_small_224": em._image_spec(em.build_mobilenet_v3_small, 13, 224),
    # Grouped convolutions (RegNet's groups of 8-24 channels, ResNeXt's 32
    # groups of 4), ShuffleNet's channel shuffle, Swin's windows.
    "regnet_y_400mf_224": em._image_spec(_torchvision("regnet_y_400mf"), 14, 224),
    "resnext50_224": em._image_spec(_torchvision("resnext50_32x4d"), 13, 224),
    "shufflenet_v2_224": em._image_spec(_torchvision("shufflenet_v2_x1_0"), 13, 224),
    "swin_t_224": em._image_spec(_torchvision("swin_t"), 17, 224),
    # The CNNs most benchmarked: ResNet-50's bottlenecks (1 x 1 convolutions
    # of 64-2048 channels), EfficientNet-B0's depthwise + squeeze-excite.
    "resnet50_224": em._image_spec(_torchvision("resnet50"), 13, 224),
    "efficientnet_b0_224": em._image_spec(_torchvision("efficientnet_b0"), 13, 224),
    # The int8 CNN most deployed: inverted residuals of ReLU6 depthwise
    # convolutions, no squeeze-excite.
    "mobilenet_v2_224": em._image_spec(_torchvision("mobilenet_v2"), 13, 224),
    # Segmentation at 520 x 520: DeepLabV3's ASPP (3 x 3 at dilations 12,
    # 24, 36 on a 33 x 33 map) and bilinear upsampling to the input size,
    # LR-ASPP's sigmoid gate and two upsamplings; classic CNNs with concats
    # (DenseNet-121, Inception-v3 at 299 x 299) and AlexNet's 151 MB
    # classifier.
    "deeplabv3_mbv3_520": em._image_spec(_segmentation("deeplabv3_mobilenet_v3_large"),
                                         13, 520, "out"),
    "lraspp_mbv3_520": em._image_spec(_segmentation("lraspp_mobilenet_v3_large"),
                                      13, 520, "out"),
    "densenet121_224": em._image_spec(_torchvision("densenet121"), 13, 224),
    "inception_v3_299": em._image_spec(_torchvision("inception_v3", aux_logits=False,
                                                    init_weights=True), 13, 299),
    "alexnet_224": em._image_spec(_torchvision("alexnet"), 13, 224),
    "transformer_encoder_3x256": em.ModelSpec(Encoder3x256, 14,
                                              [("src", (2, 8, 256), "float32")], ["output"],
                                              {"src": em.BS, "output": em.BS}),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--cnn", action="store_true",
                    help="also export the convolutional models (the CNN issue's)")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for name, spec in MODELS.items():
        if args.only and name not in args.only:
            continue
        if not args.only and not args.cnn and name in CNN:
            continue
        em.export_one(name, args.outdir, spec)
    # ONNX Runtime's fused form (its own ops), not a PyTorch export.
    if not args.only or "bert_base_ort" in args.only:
        sys.path.insert(0, os.path.join(HERE, "..", "test", "e2e"))
        import ort_contrib  # noqa: E402
        path = os.path.join(args.outdir, "bert_base_ort.onnx")
        ort_contrib.bert_ort(path, hidden=768, heads=12, ffn=3072, layers=12,
                             vocab=30522, max_pos=512)
        print(f"bert_base_ort: ONNX Runtime's fused form, {path}")
    if not args.only or "gpt2_4x256_ort_decode" in args.only:
        sys.path.insert(0, os.path.join(HERE, "..", "test", "e2e"))
        import ort_contrib  # noqa: E402
        path = os.path.join(args.outdir, "gpt2_4x256_ort_decode.onnx")
        ort_contrib.gpt2_ort_model(path)
        print(f"gpt2_4x256_ort_decode: ONNX Runtime's fused form, {path}")
    for half, src in (("bert_base_fp16", "bert_base"),
                      ("llama_8x1024_decode_fp16", "llama_8x1024_decode"),
                      ("resnet18_224_fp16", "resnet18_224")):
        if not args.only or half in args.only:
            s_ = os.path.join(args.outdir, src + ".onnx")
            if not os.path.exists(s_):
                em.export_one(src, args.outdir, MODELS[src])
            sys.path.insert(0, os.path.join(HERE, "..", "test", "models"))
            import onnx  # noqa: E402
            import to_half  # noqa: E402
            onnx.save(to_half.convert(onnx.load(s_), "fp16"),
                      os.path.join(args.outdir, half + ".onnx"))
            print(f"{half}: {src} in fp16")
    for alias, src in (("bert_base_b8", "bert_base"), ("gpt2_4x256_decode", "gpt2_4x256"),
                       ("resnet18_224_b8", "resnet18_224"),
                       ("llama_8x1024_prefill", "llama_8x1024_decode"),
                       ("mobilenet_v3_small_224_b8", "mobilenet_v3_small_224")):
        a, s_ = os.path.join(args.outdir, alias + ".onnx"), os.path.join(args.outdir, src + ".onnx")
        if os.path.exists(s_) and not os.path.exists(a):
            os.link(s_, a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
