"""AlexNet: Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep
Convolutional Neural Networks", NIPS 2012; in the single-tower form of Krizhevsky, "One
weird trick for parallelizing convolutional neural networks", arXiv:1404.5997, 2014, which
is torchvision's ``alexnet``.

Input 3x224x224 (any size of at least 63x63 runs: the features must leave one pixel, and
an adaptive average pooling makes the classifier's input 256 x 6 x 6 whatever the size).
61,100,840 parameters at 1000 classes, 58,631,144 of them in the three fully connected
layers.

    features.0    Conv2d(3, 64, 11, stride 4, padding 2)    224 -> 55
    features.1    ReLU
    features.2    MaxPool2d(3, stride 2)                    55 -> 27
    features.3    Conv2d(64, 192, 5, padding 2)
    features.4    ReLU
    features.5    MaxPool2d(3, stride 2)                    27 -> 13
    features.6    Conv2d(192, 384, 3, padding 1)
    features.8    Conv2d(384, 256, 3, padding 1)
    features.10   Conv2d(256, 256, 3, padding 1)            (ReLU after each, at 7, 9, 11)
    features.12   MaxPool2d(3, stride 2)                    13 -> 6
    avgpool       AdaptiveAvgPool2d((6, 6))
    classifier    Dropout, Linear(9216, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU,
                  Linear(4096, num_classes)          (Linear layers at 1, 4 and 6)

The pooling windows overlap (3x3, stride 2), which the paper found to reduce overfitting
slightly. Keys and shapes are torchvision's (``features.0.weight`` (64, 3, 11, 11), ...,
``classifier.6.bias`` (num_classes,)), so its published weights load; initialisation is
PyTorch's default for each layer, as torchvision's.

Differences from the 2012 paper: the paper split the network over two GPUs (convolutions
3, 4, 5 of its two towers see 48, 192 and 192 channels each) with 96, 256, 384, 384, 256
kernels; the one-tower network here has 64, 192, 384, 256, 256. And the paper normalised
the responses of the first two convolutions (after their ReLU, before pooling) with local
response normalisation, which torchvision drops. ``lrn=True`` puts it back, with the
paper's constants ``k = 2, n = 5, alpha = 1e-4, beta = 0.75`` in the paper's formula

    b_c = a_c / (k + alpha * sum_{c' within n/2 of c} a_{c'}^2) ^ beta

PyTorch's (and minicnn's) ``LocalResponseNorm`` divides ``alpha`` by the window size, so
the paper's layer is ``LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)``. (Caffe's
reference AlexNet uses ``alpha=1e-4`` in that divided convention, an effect five times
weaker; it trains about as well.) LRN has no parameters, so ``lrn=True`` adds no state,
but the two inserted layers shift the later ``features`` indices: the convolutions are
then ``features.0, 4, 8, 10, 12`` instead of ``0, 3, 6, 8, 10``. Only the default
(``lrn=False``) takes torchvision's weights.
"""

from .. import nn

__all__ = ["AlexNet", "alexnet"]

# The paper's k = 2, n = 5, alpha = 1e-4, beta = 0.75, with alpha scaled by n for
# LocalResponseNorm's alpha / size convention (see the module docstring).
PAPER_LRN = dict(size=5, alpha=5e-4, beta=0.75, k=2.0)


class AlexNet(nn.Module):
    """AlexNet (torchvision's one-tower version); see the module docstring.

    Parameters
    ----------
    num_classes : int
    dropout : float
        Probability of both dropout layers of the classifier.
    lrn : bool
        Local response normalisation after the first two convolutions (the paper's);
        shifts the ``features`` indices, so not for torchvision's weights.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``, H and W at least 63; 224 for ImageNet.
    """

    def __init__(self, num_classes=1000, dropout=0.5, lrn=False):
        super().__init__()
        self.lrn = lrn

        def normalise():
            return [nn.LocalResponseNorm(**PAPER_LRN)] if lrn else []

        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            *normalise(), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            *normalise(), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))  # (N, 256, 6, 6) -> (N, 9216)


def alexnet(num_classes=1000, dropout=0.5, lrn=False):
    """AlexNet, torchvision's (61,100,840 parameters at 1000 classes); ``lrn=True`` adds the
    paper's local response normalisation. See ``minicnn.models.alexnet``."""
    return AlexNet(num_classes=num_classes, dropout=dropout, lrn=lrn)
