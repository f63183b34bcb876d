from . import test_quotation_criterion
from . import test_i18n
