"""edgecnn.train: Fashion-MNIST data, the reference Keras CNN, augmentation and training.

Importing this package must stay cheap: TensorFlow is imported only inside the
functions that need it.
"""
