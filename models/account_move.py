from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        orders = self.line_ids.sale_line_ids.order_id
        if orders:
            orders._social_crm_mark_paid()
        return result
