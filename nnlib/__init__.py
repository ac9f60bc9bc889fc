"""nnlib: the numpy reference library of the nncourse neural-networks course."""

from nnlib import threads

__version__ = "0.1.0"

# As many BLAS threads as CPUs the process may use (a Binder container sees every host core
# but may use one); `nnlib.threads.report()` says what was chosen and why.
BLAS_THREADS = threads.limit_threads()
