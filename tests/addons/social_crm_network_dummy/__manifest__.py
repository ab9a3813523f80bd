{
    "name": "Social CRM: a dummy network (tests only)",
    "summary": "Proves that a network is one engine module and one Odoo file",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "license": "LGPL-3",
    "author": "social_crm_module developers",
    "depends": ["social_crm_module"],
    "data": ["views/social_crm_account_views.xml"],
}
