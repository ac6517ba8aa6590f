"""The studio window (Qt). Imports rnn_studio.core; core never imports this."""


def __getattr__(name):
    if name == "MainWindow":
        from .main_window import MainWindow

        return MainWindow
    raise AttributeError(name)
