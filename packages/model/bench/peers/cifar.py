"""The first images of CIFAR-10's official binary training files, read with numpy only.

Each record is one label byte and 3,072 pixel bytes, channel-planar (1,024 red, then green,
then blue). The JavaScript side (@tta/data's loadCifar10) reads the same files in the same
order, so every framework of the peers benchmark trains on the same images.
"""

import os

import numpy as np

RECORD = 1 + 32 * 32 * 3


def load(data_dir, count):
    """(images uint8 [count, 3, 32, 32] channel-planar, labels int64 [count]) from data_batch_1.bin on."""
    images, labels, have = [], [], 0
    for index in range(1, 6):
        if have >= count:
            break
        raw = np.fromfile(os.path.join(data_dir, f"data_batch_{index}.bin"), dtype=np.uint8).reshape(-1, RECORD)
        raw = raw[: count - have]
        labels.append(raw[:, 0].astype(np.int64))
        images.append(raw[:, 1:].reshape(-1, 3, 32, 32))
        have += raw.shape[0]
    if have < count:
        raise SystemExit(f"cifar.py: {data_dir} holds {have} training images, {count} needed")
    return np.concatenate(images), np.concatenate(labels)
