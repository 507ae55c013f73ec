"""LeNet-5: LeCun, Bottou, Bengio & Haffner, "Gradient-Based Learning Applied to Document
Recognition", Proc. IEEE 86(11), 1998.

Input 1x32x32 (MNIST's 28x28 digits padded by 2 on each side, as in the paper), 61,706
parameters at 10 classes:

    layer          output      parameters
    C1 conv 5x5    6 x 28 x 28        156   (6 * 1 * 25 + 6)
    S2 pool 2x2    6 x 14 x 14
    C3 conv 5x5   16 x 10 x 10      2,416   (16 * 6 * 25 + 16)
    S4 pool 2x2   16 x  5 x  5
    C5 fc                120       48,120   (120 * 400 + 120)
    F6 fc                 84       10,164   (84 * 120 + 84)
    output fc             10          850   (10 * 84 + 10)

(The paper's C5 is a 5x5 convolution with 120 maps over S4's 5x5 maps: a 1x1 output, the
same as a fully connected layer on the 400 flattened values, which is how it is built here.)

Two flavours (``variant``):

- ``'modern'`` (default): ReLU and 2x2 max pooling, what courses usually mean by LeNet-5
  today; it trains faster.
- ``'1998'``: tanh and 2x2 average pooling, the paper's network simplified in four ways
  (all common in textbooks): the paper's squashing function is the scaled
  ``1.7159 tanh(2x/3)``, here plain tanh; its subsampling layers S2/S4 multiply each
  average by a trainable coefficient and add a trainable bias before the squashing, here
  a plain average (those 2 * (6 + 16) = 44 parameters are dropped); C3 connects each of
  its 16 maps to only a subset of S2's 6 maps (table I of the paper, 1,516 parameters),
  here to all 6 (2,416); and the output layer is a fully connected layer giving logits for
  a softmax cross-entropy, where the paper used Euclidean radial basis functions with fixed
  bitmap codes. Both flavours therefore have the same parameters and keys.

Keys (there is no torchvision LeNet; the names follow torchvision's AlexNet/VGG style)::

    features.0   C1 Conv2d(1, 6, 5)          classifier.0  C5 Linear(400, 120)
    features.1   ReLU / Tanh                 classifier.1  ReLU / Tanh
    features.2   S2 MaxPool2d / AvgPool2d    classifier.2  F6 Linear(120, 84)
    features.3   C3 Conv2d(6, 16, 5)         classifier.3  ReLU / Tanh
    features.4   ReLU / Tanh                 classifier.4  Linear(84, num_classes)
    features.5   S4 MaxPool2d / AvgPool2d

so ``state_dict`` holds ``features.0.weight`` (6, 1, 5, 5), ``features.3.weight``
(16, 6, 5, 5), ``classifier.0.weight`` (120, 400), ... ``classifier.4.bias``
(num_classes,). Initialisation: PyTorch's defaults for ``Conv2d`` and ``Linear``.
"""

from .. import nn

__all__ = ["LeNet5", "lenet5"]

VARIANTS = {"modern": (nn.ReLU, nn.MaxPool2d), "1998": (nn.Tanh, nn.AvgPool2d)}


class LeNet5(nn.Module):
    """LeNet-5; see the module docstring.

    Parameters
    ----------
    num_classes : int
    variant : 'modern' (ReLU, max pooling) or '1998' (tanh, average pooling)

    Shapes: ``(N, 1, 32, 32) -> (N, num_classes)``.
    """

    def __init__(self, num_classes=10, variant="modern"):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"lenet5: variant must be one of {sorted(VARIANTS)}, got "
                             f"{variant!r}")
        activation, pool = VARIANTS[variant]
        self.variant = variant
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5), activation(), pool(2),     # 32 -> 28 -> 14
            nn.Conv2d(6, 16, kernel_size=5), activation(), pool(2),    # 14 -> 10 -> 5
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), activation(),
            nn.Linear(120, 84), activation(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        if x.ndim != 4 or x.shape[1:] != (1, 32, 32):
            raise ValueError(f"lenet5: expected input of shape (N, 1, 32, 32), got {x.shape} "
                             f"(pad 28x28 MNIST-style images by 2 pixels on each side)")
        x = self.features(x)
        return self.classifier(x.flatten(1))  # (N, 16, 5, 5) -> (N, 400)

    def extra_repr(self):
        return f"variant={self.variant!r}"


def lenet5(num_classes=10, variant="modern"):
    """LeNet-5 for 1x32x32 images (61,706 parameters at 10 classes); ``variant`` 'modern'
    (ReLU, max pooling) or '1998' (tanh, average pooling). See ``minicnn.models.lenet``."""
    return LeNet5(num_classes=num_classes, variant=variant)
