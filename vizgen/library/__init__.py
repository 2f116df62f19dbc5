"""The students' course library: what the notebooks import, besides the topic modules.

``data`` and ``mnist`` (the offline photos, ImageNet samples and MNIST; binarised MNIST), ``image``
(preprocessing, blur, jitter), ``models`` (the pretrained EfficientNet-Lite0), ``plotting`` and
``grids`` (figures), ``training`` (minibatches, learning-rate decay, the Adam loop on binarised
MNIST, batched evaluation), ``sampling`` (a generator's samples and latent walks), ``seeding``
(repeatable randomness that leaves the caller's alone) and ``quality`` (sample quality by the course's
MNIST classifier). None of it imports a topic module; nothing here is graded code.
"""
