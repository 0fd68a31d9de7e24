"""Tensors: n-dimensional arrays of doubles in the same reverse-mode graph idea as Value (being built, issue 14)."""
