from . import test_security
from . import test_advocate_scoring
from . import test_ingest
from . import test_sync
from . import test_identity_review
from . import test_classify
from . import test_privacy
from . import test_routing
