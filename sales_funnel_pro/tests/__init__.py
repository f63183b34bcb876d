from . import test_gates
from . import test_ui
from . import test_stage_config
from . import test_template
from . import test_security
from . import test_stage_history
from . import test_i18n
