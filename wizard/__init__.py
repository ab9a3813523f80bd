from . import privacy_lookup_wizard
from . import social_crm_reply_wizard
from . import social_crm_meta_connect_wizard
