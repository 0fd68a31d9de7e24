"""Handwritten digits for `autodiff train`: scikit-learn's 8x8 images written as CSV files.

scikit-learn ships the data set (load_digits: 1,797 images of 8x8 pixels, 0 to 16 each, of the
digits 0 to 9, from the UCI repository); nothing is downloaded.  This script writes it as two
tables with a header, 64 pixel columns p0_0 ... p7_7 (row, then column) and the label, the digit
as d0 ... d9 (not 0 ... 9: `train` takes a column of numbers for regression unless told
`--task classification`; labels that are not numbers are classes):

    digits.csv        the training rows (1,437: 80%), for `autodiff train`
    digits-test.csv   the test rows (360: 20%), never seen in training, for `autodiff predict`

The split is fixed (stratified by digit, seeded), so everybody gets the same files:

    pip install "autodiff[examples]"            # scikit-learn
    python examples/digits.py                   # writes digits.csv and digits-test.csv here
    autodiff train digits.csv -t label --hidden 64 --epochs 30 --batch-size 64 --val-split 0.2 --save digits.json
    autodiff predict digits.json digits-test.csv > predictions.csv
    python examples/digits.py --score predictions.csv    # the test accuracy
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

SEED = 0
TEST_FRACTION = 0.2
COLUMNS = [f"p{r}_{c}" for r in range(8) for c in range(8)]


def split():
    """(train images, train labels, test images, test labels): a stratified 80/20 split, always the same."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=TEST_FRACTION, random_state=SEED, stratify=digits.target
    )
    return X_train, y_train, X_test, y_test


def write(path, images, labels):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([*COLUMNS, "label"])
        for image, label in zip(images, labels, strict=True):
            writer.writerow([*(int(v) for v in image), f"d{int(label)}"])


def score(path):
    """The accuracy of `autodiff predict`'s output: the share of rows whose prediction is their label."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    right = sum(row["prediction"] == row["label"] for row in rows)
    return right, len(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", metavar="DIR", help="where to write the two files (default: here)")
    parser.add_argument("--score", metavar="PREDICTIONS.csv", help="print the accuracy of predict's output and stop")
    args = parser.parse_args(argv)
    if args.score:
        right, total = score(args.score)
        print(f"test accuracy {right / total:.1%} ({right} of {total})")
        return 0
    try:
        X_train, y_train, X_test, y_test = split()
    except ImportError:
        print('this example needs scikit-learn: pip install "autodiff[examples]"', file=sys.stderr)
        return 1
    out = Path(args.out)
    write(out / "digits.csv", X_train, y_train)
    write(out / "digits-test.csv", X_test, y_test)
    print(f"wrote {out / 'digits.csv'} ({len(y_train)} rows) and {out / 'digits-test.csv'} ({len(y_test)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
