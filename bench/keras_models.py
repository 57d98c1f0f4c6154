#!/usr/bin/env python3
"""Keras reference for bench/models.ts: inference img/s of keras.applications backbones
(include_top=False, weights=None, pooling='avg') on TensorFlow CPU. Prints one JSON object."""
import json
import os
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import keras  # noqa: E402

BUILD = {
    "resnet50": (keras.applications.ResNet50, 224),
    "resnet101": (keras.applications.ResNet101, 224),
    "nasnetmobile": (keras.applications.NASNetMobile, 224),
    "inceptionresnetv2": (keras.applications.InceptionResNetV2, 299),
}

names, batch, runs = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3])
out = {}
for name in names:
    build, size = BUILD[name]
    model = build(include_top=False, weights=None, input_shape=(size, size, 3), pooling="avg")
    x = np.random.default_rng(0).uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    model.predict_on_batch(x)  # warm-up (graph tracing)
    t = time.perf_counter()
    for _ in range(runs):
        model.predict_on_batch(x)
    out[name] = batch * runs / (time.perf_counter() - t)
    keras.backend.clear_session()
print(json.dumps(out))
