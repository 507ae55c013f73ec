"""Differentiable ops, one family per module; each op's forward and backward side by side.

Read them in this order: elementwise, activation, reduce, shape, linear, then the CNN ops.
"""
