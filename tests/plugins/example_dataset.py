"""A dataset in a known format in one file: 8x8 gray images in the IDX format of MNIST.

Importing this module registers it; specs then take dataset="example_digits". The four
files are looked for, under these names (optionally gzipped), in the `data_dir` given to
`ticketlab.run`, in $TICKETLAB_DATA or in an 'example_digits/' folder of either. Given by
name alone, without checksums or a mirror, they are never downloaded.
"""
from ticketlab.data import DatasetInfo, register_dataset

INFO = DatasetInfo("example_digits", (1, 8, 8), 4, mean=(0.5,), std=(0.29,), augment=False, crop_padding=0,
                   flip=False, train_size=64, test_size=32)
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

register_dataset("example_digits", info=INFO, format="idx", files=FILES)
