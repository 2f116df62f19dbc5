"""The topic modules: what surrounds each assignment's graded functions in its notebook.

``visualize`` (class visualization's loop), ``features`` (receptive-field layers, retrieval precision,
DeepDream's driver), ``style`` (VGG19 features, Caffe preprocessing, the style-transfer drivers),
``gan`` (the GAN training loop), ``latent`` (latent arithmetic, the game f(x, y) = xy), ``vae``
(decoding pictures, k-means purity) and ``pixelcnn`` (training, sampling drivers, the families'
comparison). A topic module imports the library, never another topic module, and ships no answer
of a graded function.
"""
