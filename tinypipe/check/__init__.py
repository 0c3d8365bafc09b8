"""The TFLM reference interpreter and bit-exact validation against it."""
