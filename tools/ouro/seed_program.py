# The seed program's classes (SCENARIOS.md, scenario 1) in Python, as tools/ouro/tour_seed.h
# builds them in ouro: the oracle that tests/cli/seed_pickle_test.cpp and
# embedded/check_firmware.py compare ouro's pickles with. pickle names them
# __main__.ComplexDataObject and __main__.NestedClass, so callers exec this file in the
# script that runs as __main__. The dict key 'nested' and the attribute name are one
# interned str, which pickle writes once and refers back to.


class NestedClass:
    def __init__(self):
        self.message = 'I am nested'


class ComplexDataObject:
    def __init__(self):
        self.integer = 1024
        self.string = 'Sample Text'
        self.list = [1, 2, 3, {'nested': 'dict'}, ('tuple', 42)]
        self.nested = NestedClass()
