"""Data and the Keras side: datasets, the model zoo, training and int8 quantization."""
