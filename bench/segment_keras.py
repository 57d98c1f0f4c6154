#!/usr/bin/env python3
"""Keras reference for bench/segment.ts: the lung U-Net of lib/segment/unet.ts, built layer for layer (3x3
conv without bias, BatchNorm, ReLU, twice per level; 2x2 max pooling; 2x2 nearest upsampling and
concatenation; 1x1 sigmoid) on TensorFlow CPU, served over stdin/stdout so the benchmark can interleave it with
ours in short slices: a machine whose speed drifts then slows both alike. After warming up it prints
{"ready": parameters}; then each line "N" runs N batches and answers {"seconds": s}; an empty line ends it."""
import json
import os
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402


def block(x, filters):
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    return x


def unet(size, channels):
    inp = keras.Input((size, size, 1))
    x, skips = inp, []
    for i, c in enumerate(channels):
        if i > 0:
            x = layers.MaxPooling2D(2)(x)
        x = block(x, c)
        if i < len(channels) - 1:
            skips.append(x)
    for i in range(len(channels) - 2, -1, -1):
        x = layers.UpSampling2D(2)(x)
        x = layers.Concatenate()([x, skips[i]])
        x = block(x, channels[i])
    return keras.Model(inp, layers.Conv2D(1, 1, activation="sigmoid")(x))


size, channels, batch, warmup = int(sys.argv[1]), [int(c) for c in sys.argv[2].split(",")], int(sys.argv[3]), int(sys.argv[4])
model = unet(size, channels)
x = np.random.default_rng(0).standard_normal((batch, size, size, 1)).astype("float32")
for _ in range(warmup):  # graph tracing, then the allocator's steady state
    model.predict_on_batch(x)
print(json.dumps({"ready": model.count_params()}), flush=True)
for line in sys.stdin:
    if not line.strip():
        break
    t = time.perf_counter()
    for _ in range(int(line)):
        model.predict_on_batch(x)
    print(json.dumps({"seconds": time.perf_counter() - t}), flush=True)
