#!/usr/bin/env python3
"""Reference fixtures for the TypeScript backbones: builds a keras.applications model (include_top=False,
weights=None) with a fixed seed, randomises its BatchNorm statistics (so inference-mode BN is really
tested), and writes into --out:
  weights.h5        the weights in the legacy Keras HDF5 layout (layer_names / weight_names attributes)
  input.bin         raw RGB 0..255 float32 images, NHWC
  preprocessed.bin  keras preprocess_input(input) for the model's mode
  <i>.bin           float32 outputs: the pooled model output, then each --layers output
  meta.json         model, sizes, Keras param count, weight names/shapes in order, output names/shapes

Usage: keras_parity.py --model resnet50 --size 64 --out DIR [--batch 2] [--pooling avg] [--layers a,b] [--seed 0]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

MODELS = {
    "resnet50": (keras.applications.ResNet50, keras.applications.resnet.preprocess_input),
    "resnet101": (keras.applications.ResNet101, keras.applications.resnet.preprocess_input),
    "nasnetmobile": (keras.applications.NASNetMobile, keras.applications.nasnet.preprocess_input),
    "inceptionresnetv2": (
        keras.applications.InceptionResNetV2,
        keras.applications.inception_resnet_v2.preprocess_input,
    ),
}


def randomise_batchnorm(model, rng):
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            values = []
            for w in layer.weights:
                n = w.shape[0]
                kind = w.path.split("/")[-1]
                if kind == "gamma":
                    values.append(rng.uniform(0.5, 1.5, n))
                elif kind == "beta":
                    values.append(rng.normal(0.0, 0.1, n))
                elif kind == "moving_mean":
                    values.append(rng.normal(0.0, 0.1, n))
                else:
                    values.append(rng.uniform(0.5, 1.5, n))
            layer.set_weights([v.astype("float32") for v in values])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True, choices=sorted(MODELS))
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--pooling", default="avg", choices=["avg", "max", "none"])
    p.add_argument("--layers", default="")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    keras.utils.set_random_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    build, preprocess = MODELS[a.model]
    model = build(
        include_top=False,
        weights=None,
        input_shape=(a.size, a.size, 3),
        pooling=None if a.pooling == "none" else a.pooling,
    )
    randomise_batchnorm(model, rng)
    layer_names = [n for n in a.layers.split(",") if n]
    outputs = [model.output] + [model.get_layer(n).output for n in layer_names]
    probe = keras.Model(model.input, outputs)

    images = rng.uniform(0, 255, (a.batch, a.size, a.size, 3)).astype("float32")
    pre = preprocess(images.copy()).astype("float32")
    results = probe.predict(pre, verbose=0)

    out = os.path.abspath(a.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".parity-", dir=os.path.dirname(out))
    try:
        with h5py.File(os.path.join(tmp, "weights.h5"), "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, model)
        images.tofile(os.path.join(tmp, "input.bin"))
        pre.tofile(os.path.join(tmp, "preprocessed.bin"))
        described = []
        for i, (name, r) in enumerate(zip(["output"] + layer_names, results)):
            r = np.asarray(r, dtype="float32")
            r.tofile(os.path.join(tmp, f"{i}.bin"))
            described.append({"name": name, "file": f"{i}.bin", "shape": list(r.shape)})
        weights = [
            {"layer": layer.name, "shapes": [list(w.shape) for w in layer.weights]}
            for layer in model.layers
            if layer.weights
        ]
        meta = {
            "model": a.model,
            "size": a.size,
            "batch": a.batch,
            "pooling": a.pooling,
            "seed": a.seed,
            "keras": keras.__version__,
            "params": int(model.count_params()),
            "weights": weights,
            "outputs": described,
        }
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(out)


if __name__ == "__main__":
    sys.exit(main())
