from . import test_dummy_network
