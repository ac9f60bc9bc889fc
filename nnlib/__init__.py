"""nnlib: the numpy reference library of the nncourse neural-networks course."""

__version__ = "0.1.0"
