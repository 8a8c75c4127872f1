#!/usr/bin/env python3
"""Calibration inputs for the GPTQ/SmoothQuant golden vectors (run on the GPU machine, beside gptq_ref.py).

usage: make_gptq_inputs.py OUT_DIR
Writes OUT_DIR/<case>.in.safetensors with W [out,in] and X [n,in] (float32) for each case below; the golden
outputs come from `gptq_ref.py <case>.in.safetensors <case>.out.safetensors [flags]` (see make_golden.sh).
"""
import sys, torch
from safetensors.torch import save_file

CASES = {
    # name: (out, in, samples, outlier channels {index: factor}, dead input channel)
    "plain":    (64, 320, 512, {}, 17),
    "actorder": (96, 256, 512, {}, None),
    "outliers": (128, 384, 512, {5: 40.0, 77: 25.0, 200: 40.0, 301: 25.0}, None),
}


def main():
    out = sys.argv[1]
    g = torch.Generator().manual_seed(1234)
    for name, (rows, cols, n, outliers, dead) in CASES.items():
        w = torch.randn(rows, cols, generator=g) / cols ** 0.5
        x = torch.randn(n, cols, generator=g)
        for c, f in outliers.items():
            x[:, c] *= f
        if dead is not None:
            x[:, dead] = 0
        save_file({"W": w.contiguous(), "X": x.contiguous()}, f"{out}/{name}.in.safetensors")
        print(name, tuple(w.shape), tuple(x.shape))


if __name__ == "__main__":
    main()
