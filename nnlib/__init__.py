"""nnlib: the numpy reference library of the nncourse neural-networks course.

Two ways to build and train a network, each speaking its own vocabulary:

=============================  ====================  ========================================
trainer                        learning rate, L2     why this vocabulary
=============================  ====================  ========================================
``network.Network.sgd`` and    ``eta``, ``lmbda``    The Nielsen network of the lectures and
``update_mini_batch``,                               of the exercises written by hand
``neuron.SigmoidNeuron.fit``,                        (notebooks 02-06, the L2 penalty of 08):
``perceptron.Perceptron``                            the symbols of the notes, eta and lambda
                                                     (``lambda`` is a Python keyword). One
                                                     step: W <- W - eta (dC/dW + (lmbda/n) W),
                                                     n the size of the training set.
``model.Sequential.fit`` with  ``lr``,               The layered model (notebooks 07-08),
``optim.SGD``                  ``weight_decay``      assembled like the libraries students
                                                     meet next, whose optimisers use these
                                                     names. One step adds weight_decay W to
                                                     the gradient: no 1/n.
=============================  ====================  ========================================

The two steps agree when lr = eta and weight_decay = lmbda / n (with momentum 0). Both
leave the biases undecayed, and both draw the order of the samples from the ``rng`` passed
in, through ``nnlib.data.minibatches``.
"""

from nnlib import threads

__version__ = "0.1.0"

# As many BLAS threads as CPUs the process may use (a Binder container sees every host core
# but may use one); `nnlib.threads.report()` says what was chosen and why.
BLAS_THREADS = threads.limit_threads()
