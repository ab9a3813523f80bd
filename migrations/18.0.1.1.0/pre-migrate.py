"""Match reasons no longer name a network: what proved the link is said by the
network's connector (a handle that is a proven domain, a link the network verified)."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE social_crm_identity
           SET match_reason = CASE match_reason
                   WHEN 'bluesky_domain' THEN 'handle_domain'
                   ELSE 'verified_link' END
         WHERE match_reason IN ('bluesky_domain', 'mastodon_verified_link')
        """
    )
