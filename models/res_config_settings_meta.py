from odoo import fields, models

META_APP_ID = "social_crm_module.meta_app_id"
META_APP_SECRET = "social_crm_module.meta_app_secret"  # noqa: S105 - a parameter name
META_VERIFY_TOKEN = "social_crm_module.meta_webhook_verify_token"  # noqa: S105
#: where the Graph API and the login dialog are (tests point them at 127.0.0.1)
META_GRAPH_URL = "social_crm_module.meta_graph_url"
META_DIALOG_URL = "social_crm_module.meta_dialog_url"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    social_meta_app_id = fields.Char(
        "Meta app ID", config_parameter=META_APP_ID, groups="base.group_system"
    )
    social_meta_app_secret = fields.Char(
        "Meta app secret", config_parameter=META_APP_SECRET, groups="base.group_system"
    )
    social_meta_verify_token = fields.Char(
        "Webhook verify token",
        config_parameter=META_VERIFY_TOKEN,
        groups="base.group_system",
        help="Any long random string; paste the same in the Meta app's Webhooks settings.",
    )
    social_meta_callback_url = fields.Char(
        "OAuth redirect URI", compute="_compute_social_meta_urls", groups="base.group_system"
    )
    social_meta_webhook_url = fields.Char(
        "Webhook callback URL", compute="_compute_social_meta_urls", groups="base.group_system"
    )

    def _compute_social_meta_urls(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for settings in self:
            settings.social_meta_callback_url = f"{base}/social_crm/meta/callback"
            settings.social_meta_webhook_url = f"{base}/social_crm/meta/webhook"
