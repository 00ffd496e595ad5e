"""The reference CNN in PyTorch (CPU), timed the way pnpm bench:peers times native.

The same layers as Keras' (3x3 padding-1 convolutions with relu, batch norm after the relu
with Keras' epsilon 1e-3 and momentum, 2x2 max pooling, he_uniform = kaiming_uniform for
relu, Adam at 0.001 with Keras' epsilon 1e-7), NCHW as PyTorch users feed it; one warm-up
batch, then `rounds` times `steps` batches, then inference under torch.inference_mode on the
same images (one warm-up batch, then `rounds` passes). Prints one JSON line: {"framework",
"version", "threads", "train", "predict"} (images/s, the best round of each) with "trainRounds"
and "predictRounds".
"""

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from cifar import load


def reference_cnn():
    def conv(cin, cout):
        layer = nn.Conv2d(cin, cout, 3, padding=1)
        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
        return layer

    dense = nn.Linear(64 * 8 * 8, 128)
    nn.init.kaiming_uniform_(dense.weight, nonlinearity="relu")
    nn.init.zeros_(dense.bias)
    return nn.Sequential(
        conv(3, 32),
        nn.ReLU(),
        nn.BatchNorm2d(32, eps=1e-3, momentum=0.01),
        nn.MaxPool2d(2),
        conv(32, 64),
        nn.ReLU(),
        nn.BatchNorm2d(64, eps=1e-3, momentum=0.01),
        nn.MaxPool2d(2),
        nn.Flatten(),
        dense,
        nn.ReLU(),
        nn.BatchNorm1d(128, eps=1e-3, momentum=0.01),
        nn.Linear(128, 10),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(1)
    count = args.batch * (args.steps + 1)
    planar, labels = load(args.data, count)
    x = torch.from_numpy(planar.astype(np.float32) / np.float32(255))
    y = torch.from_numpy(labels)
    model = reference_cnn()
    # Softmax and cross-entropy in one, as Keras' categorical cross-entropy on a softmax output.
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
    b = args.batch

    def step(i):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[i * b : (i + 1) * b]), y[i * b : (i + 1) * b])
        loss.backward()
        optimizer.step()
        return loss

    model.train()
    step(0)
    train_rounds = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for i in range(1, args.steps + 1):
            loss = step(i)
        loss.item()
        train_rounds.append((count - b) / (time.perf_counter() - started))
    model.eval()
    predict_rounds = []
    with torch.inference_mode():
        model(x[:b]).softmax(1)
        for _ in range(args.rounds):
            started = time.perf_counter()
            for i in range(1, args.steps + 1):
                model(x[i * b : (i + 1) * b]).softmax(1)
            predict_rounds.append((count - b) / (time.perf_counter() - started))
    version = f"PyTorch {torch.__version__}"
    print(
        json.dumps(
            {
                "framework": "pytorch",
                "version": version,
                "threads": torch.get_num_threads(),
                "train": max(train_rounds),
                "predict": max(predict_rounds),
                "trainRounds": train_rounds,
                "predictRounds": predict_rounds,
            }
        )
    )


if __name__ == "__main__":
    main()
