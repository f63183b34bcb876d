from . import test_quotation_criterion
