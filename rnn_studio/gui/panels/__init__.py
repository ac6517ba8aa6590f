"""The studio window's panels and views, one file each; main_window.py wires them."""
