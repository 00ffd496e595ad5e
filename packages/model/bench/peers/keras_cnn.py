"""The reference CNN in Keras (TensorFlow CPU), timed the way pnpm bench:peers times native.

conv32-BN-pool, conv64-BN-pool, dense128-BN, softmax (3x3 'same' convolutions with relu,
he_uniform, Adam at 0.001, categorical cross-entropy); one warm-up batch, then `rounds` times
`steps` batches of `batch` images through model.fit, then model.predict on the same images
(one warm-up batch, then `rounds` passes). Prints one JSON line: {"framework", "version",
"threads", "train", "predict"} (images/s, the best round of each) with "trainRounds" and
"predictRounds".
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

from cifar import load  # noqa: E402


def reference_cnn():
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_uniform"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_uniform"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(128, activation="relu", kernel_initializer="he_uniform"),
            layers.BatchNormalization(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    keras.utils.set_random_seed(1)
    count = args.batch * (args.steps + 1)
    planar, labels = load(args.data, count)
    x = (planar.transpose(0, 2, 3, 1).astype(np.float32) / np.float32(255)).copy()
    y = np.eye(10, dtype=np.float32)[labels]
    model = reference_cnn()
    b = args.batch
    model.fit(x[:b], y[:b], batch_size=b, epochs=1, verbose=0)
    train_rounds = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        model.fit(x[b:], y[b:], batch_size=b, epochs=1, verbose=0)
        train_rounds.append((count - b) / (time.perf_counter() - started))
    model.predict(x[:b], batch_size=b, verbose=0)
    predict_rounds = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        model.predict(x[b:], batch_size=b, verbose=0)
        predict_rounds.append((count - b) / (time.perf_counter() - started))
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    version = f"Keras {keras.__version__} on TensorFlow {tf.__version__}"
    print(
        json.dumps(
            {
                "framework": "keras",
                "version": version,
                "threads": threads,
                "train": max(train_rounds),
                "predict": max(predict_rounds),
                "trainRounds": train_rounds,
                "predictRounds": predict_rounds,
            }
        )
    )


if __name__ == "__main__":
    main()
