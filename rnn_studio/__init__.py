"""RNN Studio: watch recurrent neural networks learn."""

__version__ = "0.1.0"
