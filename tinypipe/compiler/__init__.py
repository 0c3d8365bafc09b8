""".tflite -> C: the graph (one IR, read without TensorFlow), per-op lowering, memory planning,
code generation, the TFLM array export and the model summary."""
