{
    "name": "Social CRM",
    "summary": "Social identities, interactions in the chatter, advocate scores "
    "and social coupon campaigns on Odoo loyalty",
    "version": "18.0.1.0.0",
    "category": "Marketing/Social",
    "license": "LGPL-3",
    "author": "social_crm_module developers",
    "website": "https://github.com/social-crm/social_crm_module",
    "depends": [
        "mail",
        "contacts",
        "crm",
        "sale_management",
        "sale_loyalty",
        "mass_mailing",
        "link_tracker",
        "utm",
    ],
    "external_dependencies": {
        "python": ["requests", "lxml", "tweepy", "vaderSentiment"],
    },
    "data": [
        "security/social_crm_security.xml",
        "security/ir.model.access.csv",
        "data/mail_message_subtype_data.xml",
        "data/ir_cron_advocate_data.xml",
        "views/social_crm_menus.xml",
        "views/res_partner_advocate_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "demo": [],
}
