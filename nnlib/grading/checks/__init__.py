"""Each topic's checkers: the grading logic of its exercises, written once.

A notebook's test cell holds only what is specific to it (its inputs or seed) and one call:

    from nnlib.grading import fresh
    G = fresh()
    G.checks.backprop.check_network(backprop, sizes=[2, 3, 1], n=4, seed=0)

A checker calls the student's function, compares with the reference and with numerical
gradients, and raises ``AssertionError`` with a message that names the mistake it recognises
(its table of named mistakes lives beside it) or says where the values differ. It never
writes to stderr. The reference modules it needs are imported at the top of its module, so
that ``G.checks`` (which loads the module afresh, see ``nnlib.grading.reference``) gives it
fresh copies too. Each module has unit tests of its own in ``tests/test_checks_<topic>.py``,
each shown to fail on a planted wrong answer.
"""
