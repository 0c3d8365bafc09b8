"""tinypipe: tiny neural networks onto microcontrollers, bit-exact with TFLM."""

__version__ = "0.1.0"
