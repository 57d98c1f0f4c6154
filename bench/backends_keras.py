"""Reference for bench/backends.ts: Keras ResNet50 (weights=None, average pooling) with a 1000-way softmax Dense on
TensorFlow CPU, batch of random 224x224 images: inference and Adam training steps. The backbone is called with
training=False, as in the study's fine-tuning and in the TF.js model benchmarked against it (BatchNorm keeps its
moving statistics; gamma and beta still train). Prints one JSON line. oneDNN as TF_ENABLE_ONEDNN_OPTS says: the
benchmark runs this script once with it off and once on."""
import json
import statistics
import sys
import time

import numpy as np
import tensorflow as tf
import keras

batch, infer_iters, train_iters = (int(a) for a in sys.argv[1:4])
base = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(224, 224, 3), pooling="avg")
inputs = keras.Input((224, 224, 3))
model = keras.Model(inputs, keras.layers.Dense(1000, activation="softmax")(base(inputs, training=False)))
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
rng = np.random.default_rng(0)
x = rng.standard_normal((batch, 224, 224, 3)).astype("float32")
y = keras.utils.to_categorical(rng.integers(0, 1000, batch), 1000)


def rate(step, iters):
    """Images per second of the median step (as bench/backends.ts measures ours)."""
    step()  # warm-up: graph tracing and allocation
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return batch / statistics.median(times)


infer = rate(lambda: model.predict_on_batch(x), infer_iters)
train = rate(lambda: model.train_on_batch(x, y), train_iters)
print(json.dumps({"inference": infer, "training": train, "tensorflow": tf.__version__,
                  "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                  "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}))
