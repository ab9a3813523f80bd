from . import social_crm_account
