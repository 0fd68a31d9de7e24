"""Gaussian elimination with partial pivoting: det, solve and inv of a square matrix, on any numbers.

The code only adds, subtracts, multiplies and divides, so it runs on floats (the Python
backend) and on the scalar engine's Values (the private backend of tensor/functional.py,
where the same steps build a graph that can be differentiated again).

LU factorisation, as LAPACK's getrf does it.  For each column k in turn:

1. pick the pivot: the row, at or below k, whose entry in column k is largest in size, and
   swap it into row k (partial pivoting: dividing by the largest entry keeps the
   multipliers at most 1 in size, so rounding errors do not grow);
2. eliminate: from every row i below, subtract m = A[i][k] / A[k][k] times row k, which
   makes A[i][k] zero; m is kept in its place (it is L[i][k]).

What is left on and above the diagonal is U, the multipliers below it are L (with 1s on
its diagonal), and the swaps are P: P A = L U.  Then

    det(A) = (-1)^(number of swaps) * U[0][0] * U[1][1] * ... * U[n-1][n-1]

and A x = b is solved by two substitutions: L y = P b from the top down, U x = y from the
bottom up; inv(A) solves A X = I, one column of I at a time (all of them together here).

A column with no nonzero entry at or below the diagonal has no pivot: the matrix is singular
(det = 0; no inverse).  Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from operator import mul, sub
from typing import Any

__all__ = ["Factors", "det", "factor", "identity", "matrices", "solve"]

Number = Any  # a float, or a Value: anything with + - * /
Rows = list[list[Number]]


class Factors:
    """P A = L U in one table: U on and above the diagonal, L's multipliers below it.

    order[i] is the row of A that ended in row i (P); sign is -1 after an odd number of swaps;
    zero_pivot is the first column without a pivot (the matrix is singular), or None.
    """

    __slots__ = ("lu", "order", "sign", "zero_pivot")

    def __init__(self, lu: Rows, order: list[int], sign: int, zero_pivot: int | None) -> None:
        self.lu = lu
        self.order = order
        self.sign = sign
        self.zero_pivot = zero_pivot

    def pivots(self) -> list[Number]:
        """U's diagonal: the pivots, whose product is det(A) up to the sign."""
        return [row[k] for k, row in enumerate(self.lu)]


def factor(matrix: Sequence[Sequence[Number]], size: Callable[[Number], float] = abs) -> Factors:
    """The LU factorisation of a square matrix (rows of numbers) with partial pivoting.

    size(x) is how large an entry is, for choosing pivots: abs for floats, abs(x.data) for Values.
    """
    lu = [list(row) for row in matrix]
    n = len(lu)
    order = list(range(n))
    sign = 1
    zero_pivot = None
    for k in range(n):
        # 1. the pivot: the largest entry of column k at or below the diagonal
        p = max(range(k, n), key=lambda i: size(lu[i][k]))
        if size(lu[p][k]) == 0.0:  # the column is already zero below the diagonal: nothing to eliminate
            if zero_pivot is None:
                zero_pivot = k
            continue
        if p != k:
            lu[k], lu[p] = lu[p], lu[k]
            order[k], order[p] = order[p], order[k]
            sign = -sign
        pivot_row = lu[k]
        pivot = pivot_row[k]
        tail = pivot_row[k + 1 :]
        # 2. row i -= m * row k for every row below, m = A[i][k] / pivot kept where the zero appears
        for i in range(k + 1, n):
            row = lu[i]
            m = row[k] / pivot
            row[k] = m
            row[k + 1 :] = map(sub, row[k + 1 :], map(mul, repeat(m), tail))  # the row at C speed
    return Factors(lu, order, sign, zero_pivot)


def det(f: Factors) -> Number:
    """det(A) = sign * the product of the pivots (0.0 for a singular matrix)."""
    if f.zero_pivot is not None:
        return 0.0
    product: Number = float(f.sign)
    for pivot in f.pivots():
        product = product * pivot
    return product


def solve(f: Factors, b: Rows) -> Rows:
    """X with A X = B, B given by rows (n rows of k numbers); A must not be singular (f.zero_pivot is None)."""
    n = len(f.lu)
    lu = f.lu
    y = [list(b[f.order[i]]) for i in range(n)]  # P B: the rows in the order the pivoting left them
    for i in range(n):  # L y = P b, from the top: y[i] -= L[i][k] * y[k] for the rows k above
        for k in range(i):
            y[i] = list(map(sub, y[i], map(mul, repeat(lu[i][k]), y[k])))
    for i in reversed(range(n)):  # U x = y, from the bottom: x[i] = (y[i] - sum of U[i][k] * x[k]) / U[i][i]
        for k in range(i + 1, n):
            y[i] = list(map(sub, y[i], map(mul, repeat(lu[i][k]), y[k])))
        pivot = lu[i][i]
        y[i] = [v / pivot for v in y[i]]
    return y


def identity(n: int) -> Rows:
    """The n x n identity matrix, by rows of floats (inv(A) is solve(A, identity))."""
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def matrices(values: Sequence[Number], rows: int, cols: int, count: int) -> list[Rows]:
    """A batch of `count` rows x cols matrices, stored one after another in row-major order, as lists of rows."""
    return [[list(values[(t * rows + i) * cols : (t * rows + i + 1) * cols]) for i in range(rows)]
            for t in range(count)]
