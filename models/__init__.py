from . import social_crm_account
from . import social_crm_identity
from . import social_crm_interaction
from . import social_crm_interaction_sentiment
from . import social_crm_partner_mixin
from . import res_partner
from . import crm_lead
from . import sale_order
