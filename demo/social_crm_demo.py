"""Demo history: ~90 days of interactions on every network, loaded through the real
ingest path (``_ingest_page``), so the contacts' chatter shows them as a sync would.

Not a model: loaded only by ``social.crm.account._load_demo("social_crm_demo")``,
called once from ``demo/social_crm_demo.xml`` (a ``noupdate`` file, so an upgrade
does not run it again; it is idempotent anyway: identities are looked up before
they are created and the ingest dedupes on (account, external id)).
"""

from datetime import timedelta

from odoo import fields

from odoo.addons.social_crm_module.social_crm_module.interaction import (
    Author,
    Interaction,
    Kind,
    Network,
    Page,
    utc,
)

X_WEB = "https://x.example.com"
MASTODON = "mastodon.example.social"
BSKY_WEB = "https://bsky.example.social"
VIDEO = "https://video.example.com"
REVIEWS = "https://reviews.example.com"
BRAND_POST = {
    "x": f"{X_WEB}/YourCompanyHQ/status/1400000000000000%03d",
    "mastodon": f"https://{MASTODON}/@yourcompany/1133000000000%03d",
    "bluesky": f"{BSKY_WEB}/profile/yourcompany.example.com/post/3lbrand%03d",
}

# fmt: off
# key: (network, external id, handle, name on network, followers, partner xml id,
#       link state or None for "let the ingest decide", match reason)
AUTHORS = {
    # -- X --
    "x_decoaddict": ("x", "1500000001", "decoaddict", "Deco Addict", 4210,
                     "base.res_partner_2", "confirmed", "manual"),
    "x_azure": ("x", "1500000002", "azureinterior", "Azure Interior", 2380,
                "base.res_partner_12", "confirmed", "manual"),
    "x_gemini": ("x", "1500000003", "GeminiFurniture", "Gemini Furniture", 9120,
                 "base.res_partner_3", "confirmed", "manual"),
    "x_brandon": ("x", "1500000004", "bfreeman_design", "Brandon Freeman", 812,
                  "base.res_partner_address_15", "confirmed", "manual"),
    "x_addison": ("x", "1500000005", "addison_olson", "Addison Olson", 356,
                  "base.res_partner_address_31", "confirmed", "manual"),
    "x_priya": ("x", "1500000006", "priyaraman_studio", "Priya Raman | Studio", 48200,
                "social_crm_module.demo_partner_priya_raman", "confirmed", "manual"),
    "x_hannah": ("x", "1500000007", "hannah_kowal", "Hannah K.", 233,
                 "social_crm_module.demo_partner_hannah_kowalski", "confirmed", "manual"),
    "x_jesse": ("x", "1500000008", "jbrown_makes", "Jesse Brown", 97,
                "base.res_partner_address_10", "suggested", "same_name"),
    "x_nordic": ("x", "1500000009", "nordic_loft_co", "Nordic Loft Co.", 15400,
                 None, None, None),
    "x_sam": ("x", "1500000010", "deskwarrior42", "Sam", 41, None, None, None),
    # -- Mastodon --
    "m_azure": ("mastodon", f"https://{MASTODON}/users/azureinterior",
                f"azureinterior@{MASTODON}", "Azure Interior", 640,
                "base.res_partner_12", "confirmed", "manual"),
    "m_brandon": ("mastodon", "https://design.example.social/users/bfreeman",
                  "bfreeman@design.example.social", "Brandon Freeman", 290,
                  "base.res_partner_address_15", "confirmed", "manual"),
    "m_douglas": ("mastodon", f"https://{MASTODON}/users/dfletcher",
                  f"dfletcher@{MASTODON}", "Douglas Fletcher", 122,
                  "base.res_partner_address_3", "confirmed", "manual"),
    "m_lucas": ("mastodon", "https://archi.example.social/users/lucas",
                "lucas@archi.example.social", "Lucas Moreau, architecte", 3100,
                "social_crm_module.demo_partner_lucas_moreau", "confirmed", "manual"),
    "m_priya": ("mastodon", f"https://{MASTODON}/users/priya",
                f"priya@{MASTODON}", "Priya Raman", 7900,
                "social_crm_module.demo_partner_priya_raman", "confirmed", "manual"),
    "m_ilse": ("mastodon", "https://fedi.example.social/users/woodworker",
               "woodworker@fedi.example.social", "Ilse, woodworker", 1800, None, None, None),
    # -- Bluesky --
    "b_decoaddict": ("bluesky", "did:plc:demodecoaddict000001", "decoaddict.example.com",
                     "Deco Addict", 1530, "base.res_partner_2", "confirmed", "manual"),
    "b_colleen": ("bluesky", "did:plc:democolleendiaz0001", "colleendiaz.bsky.example.social",
                  "Colleen Diaz", 410, "base.res_partner_address_28", "confirmed", "manual"),
    "b_priya": ("bluesky", "did:plc:demopriyaraman00001", "priyaraman.example.com",
                "Priya Raman", 21400, "social_crm_module.demo_partner_priya_raman",
                "confirmed", "handle_domain"),
    "b_nicole": ("bluesky", "did:plc:demonicoleford00001", "nicoleford.bsky.example.social",
                 "Nicole Ford", 188, "base.res_partner_address_16", "confirmed", "manual"),
    "b_kim": ("bluesky", "did:plc:demokimsnyder000001", "kimsnyder.bsky.example.social",
              "Kim Snyder", 64, "base.res_partner_address_13", "suggested", "same_name"),
    "b_mira": ("bluesky", "did:plc:demomirabuilds00001", "mira.builds.bsky.example.social",
               "Mira builds things", 2700, None, None, None),
    # -- feeds: video comments and reviews --
    "v_addison": ("feed", f"{VIDEO}/@addisonolson", "addisonolson", "Addison Olson", 0,
                  "base.res_partner_address_31", "confirmed", "manual"),
    "v_lucas": ("feed", f"{VIDEO}/@lucasmoreau", "lucasmoreau", "Lucas Moreau", 0,
                "social_crm_module.demo_partner_lucas_moreau", "confirmed", "manual"),
    "v_tiny": ("feed", f"{VIDEO}/@tinyhometours", "tinyhometours", "Tiny Home Tours", 0,
               None, None, None),
    "r_hannah": ("feed", f"{REVIEWS}/users/hannahk", "hannahk", "Hannah K.", 0,
                 "social_crm_module.demo_partner_hannah_kowalski", "confirmed", "manual"),
    "r_douglas": ("feed", f"{REVIEWS}/users/dfletcher", "dfletcher", "Douglas F.", 0,
                  "base.res_partner_address_3", "confirmed", "manual"),
    "r_gemini": ("feed", f"{REVIEWS}/users/gemini-furniture", "gemini-furniture",
                 "Gemini Furniture (verified business)", 0,
                 "base.res_partner_3", "confirmed", "manual"),
    "r_buyer": ("feed", f"{REVIEWS}/users/verified-buyer-8812", "verified-buyer-8812",
                "Verified buyer", 0, None, None, None),
}

# (account xml id suffix, id, kind, author, days ago, hour UTC, text, parent id, brand post)
HISTORY = [
    # ---- X ----
    ("x", "x01", "follow", "x_priya", 88, 9, "", "", 0),
    ("x", "x02", "mention", "x_priya", 84, 14,
     "Spent the week in @YourCompanyHQ's Customizable Desk. Cable tray is genuinely clever, "
     "height memory works, and it does not wobble at standing height. Full review on the blog.",
     "", 0),
    ("x", "x03", "repost", "x_decoaddict", 83, 10, "", "", 1),
    ("x", "x04", "like", "x_addison", 83, 18, "", "", 1),
    ("x", "x05", "mention", "x_decoaddict", 80, 11,
     "Our new showroom corner is in! Ten Large Meeting Tables from @YourCompanyHQ and a lot of "
     "plants. Come by the shop this Saturday.", "", 0),
    ("x", "x06", "mention", "x_brandon", 76, 15,
     "@YourCompanyHQ what's the current lead time on the Large Desk in oak? Planning a 12-seat "
     "office fit-out for Azure Interior.", "", 0),
    ("x", "x07", "reply", "x_brandon", 75, 9,
     "Thanks, 3 weeks works for us. Sending the quote request today.", "x06", 0),
    ("x", "x08", "quote", "x_azure", 70, 13,
     "Proud of this one: a whole open space furnished with @YourCompanyHQ desks, photos by our "
     "very own Colleen.", "", 2),
    ("x", "x09", "follow", "x_nordic", 66, 8, "", "", 0),
    ("x", "x10", "post", "x_nordic", 64, 17,
     "Moodboard for spring: pale oak, steel legs, #YourCompany chairs in sage. Thoughts?", "", 0),
    ("x", "x11", "mention", "x_gemini", 61, 10,
     "Happy to announce we are now an official distributor of @YourCompanyHQ office furniture "
     "across the region.", "", 0),
    ("x", "x12", "repost", "x_priya", 58, 19, "", "", 3),
    ("x", "x13", "quote", "x_priya", 55, 12,
     "This is the chair I keep recommending to clients who \"just want something that works\" "
     "<3 & it comes in six colours.", "", 3),
    ("x", "x14", "mention", "x_hannah", 41, 16,
     "@YourCompanyHQ ordered an Office Chair Black five weeks ago, still no delivery date. "
     "Nobody answers the phone. Not impressed.", "", 0),
    ("x", "x15", "dm", "x_hannah", 40, 9,
     "Order S-2291, delivery to Chicago. I was told 2 weeks originally.", "", 0),
    ("x", "x16", "dm", "x_hannah", 39, 15,
     "Thank you, the tracking link works now. Arrives Thursday apparently.", "x15", 0),
    ("x", "x17", "mention", "x_jesse", 36, 20,
     "Built a standing desk frame this weekend, topped it with a @YourCompanyHQ worktop. Solid.",
     "", 0),
    ("x", "x18", "like", "x_gemini", 33, 11, "", "", 4),
    ("x", "x19", "reply", "x_sam", 30, 22,
     "@YourCompanyHQ does the Corner Desk come with a left-hand return?", "", 4),
    ("x", "x20", "mention", "x_addison", 26, 10,
     "Second order of Drawer Black for the Deco Addict team, @YourCompanyHQ delivery was two "
     "days early this time.", "", 0),
    ("x", "x21", "repost", "x_azure", 21, 16, "", "", 5),
    ("x", "x22", "post", "x_hannah", 18, 12,
     "Update: the chair arrived, support sorted out the carrier mix-up. It is very comfortable. "
     "#YourCompany", "", 0),
    ("x", "x23", "like", "x_hannah", 18, 13, "", "", 5),
    ("x", "x24", "mention", "x_jesse", 12, 21,
     "Anyone used @YourCompanyHQ monitor arms with a 34\" ultrawide?", "", 0),
    ("x", "x25", "dm", "x_priya", 6, 10,
     "Hi! I'm putting together a home-office guide for spring. Would you be open to a "
     "collaboration? Happy to share my media kit.", "", 0),
    ("x", "x26", "mention", "x_decoaddict", 3, 15,
     "Restocked: @YourCompanyHQ Acoustic Bloc Screens are back in store, all colours.", "", 0),
    ("x", "x27", "like", "x_brandon", 1, 9, "", "", 6),
    # ---- Mastodon ----
    ("mastodon", "m01", "follow", "m_lucas", 87, 7, "", "", 0),
    ("mastodon", "m02", "mention", "m_lucas", 79, 9,
     "@yourcompany Do you publish the FSC certificates for your oak worktops? Specifying them "
     "for a school project.", "", 0),
    ("mastodon", "m03", "reply", "m_lucas", 78, 8,
     "Perfect, exactly what the client needed. Merci !", "m02", 0),
    ("mastodon", "m04", "repost", "m_priya", 72, 18, "", "", 1),
    ("mastodon", "m05", "mention", "m_azure", 68, 12,
     "Case study: how we furnished a 60 m² office in a week with @yourcompany. Thread below.",
     "", 0),
    ("mastodon", "m06", "reply", "m_brandon", 68, 13,
     "The cable management was the real hero of this project.", "m05", 0),
    ("mastodon", "m07", "like", "m_ilse", 57, 20, "", "", 2),
    ("mastodon", "m08", "mention", "m_ilse", 56, 9,
     "Repaired a 10-year-old @yourcompany desk drawer today, spare runners still available. "
     "That is how it should be.", "", 0),
    ("mastodon", "m09", "dm", "m_douglas", 47, 14,
     "Hello, could you send me the assembly PDF for the Large Cabinet? The one in the box is "
     "missing page 3.", "", 0),
    ("mastodon", "m10", "like", "m_douglas", 45, 10, "", "", 3),
    ("mastodon", "m11", "mention", "m_priya", 34, 11,
     "Shortlist for small flats, all tested: @yourcompany Customizable Desk, a folding chair "
     "from a flea market, and good light.", "", 0),
    ("mastodon", "m12", "follow", "m_douglas", 29, 16, "", "", 0),
    ("mastodon", "m13", "repost", "m_lucas", 16, 9, "", "", 4),
    ("mastodon", "m14", "reply", "m_azure", 9, 15,
     "We will be at the trade fair too, stand B12. Come and see the new meeting room setup.",
     "", 5),
    ("mastodon", "m15", "mention", "m_lucas", 2, 10,
     "Next project: a library reading room. Talking to @yourcompany about long tables with "
     "integrated lighting.", "", 0),
    # ---- Bluesky ----
    ("bluesky", "b01", "follow", "b_colleen", 86, 12, "", "", 0),
    ("bluesky", "b02", "mention", "b_colleen", 74, 15,
     "Shooting the Azure Interior open space today, @yourcompany.example.com desks look great "
     "in natural light.", "", 0),
    ("bluesky", "b03", "like", "b_decoaddict", 71, 10, "", "", 1),
    ("bluesky", "b04", "post", "b_mira", 63, 19,
     "Week 3 of the home office build: frame done, YourCompany worktop ordered.", "", 0),
    ("bluesky", "b05", "quote", "b_priya", 60, 13,
     "The one desk I recommend to people who hate assembling furniture.", "", 2),
    ("bluesky", "b06", "mention", "b_decoaddict", 52, 11,
     "New in store: @yourcompany.example.com Office Lamp in brass. Limited run.", "", 0),
    ("bluesky", "b07", "reply", "b_kim", 49, 16,
     "Ours arrived yesterday, the brass is lovely in person.", "b06", 0),
    ("bluesky", "b08", "follow", "b_nicole", 44, 9, "", "", 0),
    ("bluesky", "b09", "repost", "b_nicole", 43, 9, "", "", 3),
    ("bluesky", "b10", "reply", "b_nicole", 37, 14,
     "Is the meeting table available in white oak?", "", 3),
    ("bluesky", "b11", "mention", "b_priya", 24, 17,
     "Studio refresh done. Desk, lamp and the acoustic panels all from "
     "@yourcompany.example.com. Photos on the blog.", "", 0),
    ("bluesky", "b12", "like", "b_kim", 22, 20, "", "", 4),
    ("bluesky", "b13", "repost", "b_colleen", 14, 11, "", "", 4),
    ("bluesky", "b14", "quote", "b_decoaddict", 8, 10,
     "We stock the whole range. Ask in store for the oak samples.", "", 5),
    ("bluesky", "b15", "mention", "b_mira", 4, 18,
     "Finished! Thanks @yourcompany.example.com for answering all my questions about the "
     "worktop thickness.", "", 0),
    # ---- video comments (feed) ----
    ("feed_video", "v01", "comment", "v_tiny", 82, 20,
     "Great assembly video. Which screwdriver bit do you use at 2:15?", "", 0),
    ("feed_video", "v02", "comment", "v_addison", 77, 12,
     "Step 7 is much easier with two people, good tip at the end.", "", 0),
    ("feed_video", "v03", "comment", "v_lucas", 59, 9,
     "Would love a video on the Large Cabinet too.", "", 0),
    ("feed_video", "v04", "comment", "v_addison", 31, 15,
     "Used this for our fourth desk at the shop. Still the clearest instructions around.",
     "", 0),
    ("feed_video", "v05", "comment", "v_tiny", 11, 19,
     "Featured your desk in our latest tour, it fits a 2 m wide nook perfectly.", "", 0),
    # ---- reviews (feed) ----
    ("feed_reviews", "r01", "post", "r_gemini", 65, 10,
     "★★★★★ Reliable supplier for two years. Clear pricing, fast replacement parts.", "", 0),
    ("feed_reviews", "r02", "post", "r_douglas", 48, 17,
     "★★★★☆ Solid cabinet, but one page of the manual was missing. Support sent the PDF "
     "within the hour.", "", 0),
    ("feed_reviews", "r03", "post", "r_hannah", 39, 20,
     "★★☆☆☆ Lovely chair, terrible delivery experience. Five weeks and no updates.", "", 0),
    ("feed_reviews", "r04", "post", "r_buyer", 28, 13,
     "★★★★☆ Good desk for the price. Took 40 minutes to assemble.", "", 0),
    ("feed_reviews", "r05", "comment", "r_hannah", 17, 9,
     "Updating my review: support fixed the carrier issue and the chair is great. "
     "Four stars now.", "r03", 0),
]

# fmt: on

REVIEW_URL = REVIEWS + "/companies/yourcompany/reviews/%s"
VIDEO_URL = VIDEO + "/watch?v=demoAssembly01&lc=%s"


def load(env):
    """Create the demo identities, then ingest the demo history as syncs would
    have brought it in: oldest first, each run of one account's items a page,
    so every contact's chatter reads in the order things happened."""
    authors = {key: _author(key) for key in AUTHORS}
    _link_identities(env)
    now = utc(fields.Datetime.now())
    accounts = {}
    for suffix in ("x", "mastodon", "bluesky", "feed_video", "feed_reviews"):
        account = env.ref(f"social_crm_module.demo_account_{suffix}", False)
        if account:
            accounts[suffix] = account
    stream = sorted(
        (
            (item.created_at, suffix, item)
            for suffix in accounts
            for item in (_interaction(row, authors, now) for row in HISTORY if row[0] == suffix)
        ),
        key=lambda entry: (entry[0], entry[1]),
    )
    # consecutive items of one account make its pages (at most 20 each)
    runs = []
    for _date, suffix, item in stream:
        if runs and runs[-1][0] == suffix and len(runs[-1][1]) < 20:
            runs[-1][1].append(item)
        else:
            runs.append((suffix, [item]))
    pages = dict.fromkeys(accounts, 0)
    for suffix, items in runs:
        pages[suffix] += 1
        accounts[suffix]._ingest_page(
            Page(items=tuple(items), cursor=f"demo-{suffix}-{pages[suffix]}")
        )
    # a demo account never syncs: it stays paused, without credentials
    for account in accounts.values():
        account.write({"state": "paused", "next_sync_at": False})
    return True


def _author(key):
    network, external_id, handle, name, followers, *_rest = AUTHORS[key]
    if network == "x":
        profile = f"{X_WEB}/{handle}"
    elif network == "mastodon":
        user, instance = handle.split("@")
        profile = f"https://{instance}/@{user}"
    elif network == "bluesky":
        profile = f"{BSKY_WEB}/profile/{handle}"
    else:
        profile = external_id
    website = "https://priyaraman.example.com" if "priya" in key else ""
    return Author(
        network=Network(network),
        external_id=external_id,
        handle=handle,
        display_name=name,
        profile_url=profile,
        followers_count=followers or None,
        website=website,
    )


def _link_identities(env):
    """Identities that demo contacts confirmed by hand (or were suggested) exist
    before the first sync, as they would after someone pasted a profile URL."""
    Identity = env["social.crm.identity"]
    for key, spec in AUTHORS.items():
        network, external_id, handle, name, followers, xmlid, state, reason = spec
        if not xmlid:
            continue
        partner = env.ref(xmlid, False)
        if not partner:
            continue
        author = _author(key)
        vals = {
            "network": network,
            "external_id": external_id,
            "handle": handle,
            "display_name_network": name,
            "profile_url": author.profile_url,
            "followers_count": followers,
            "website": author.website or False,
            "partner_id": partner.id,
            "link_state": state,
            "match_reason": reason,
        }
        if not Identity.search_count(
            [("network", "=", network), ("external_id", "=", external_id)]
        ):
            Identity.create(vals)


def _interaction(row, authors, now):
    suffix, key, kind, author_key, days, hour, text, parent, brand_post = row
    author = authors[author_key]
    network = author.network.value
    created = (now - timedelta(days=days)).replace(hour=hour, minute=(days * 7) % 60)
    external_id = _external_id(network, key)
    if suffix == "feed_video":
        url = VIDEO_URL % key
    elif suffix == "feed_reviews":
        url = REVIEW_URL % key
    elif kind in ("like", "repost") and brand_post:
        url = BRAND_POST[network] % brand_post
    elif kind == "follow":
        url = author.profile_url
    elif network == "x":
        url = f"{X_WEB}/{author.handle}/status/{external_id}"
    elif network == "mastodon":
        user, instance = author.handle.split("@")
        url = f"https://{instance}/@{user}/{external_id}"
    else:
        url = f"{BSKY_WEB}/profile/{author.handle}/post/{key}demo"
    subject = (BRAND_POST[network] % brand_post) if brand_post and network != "feed" else ""
    parent_id = _external_id(network, parent) if parent else ""
    return Interaction(
        network=author.network,
        external_id=external_id,
        kind=Kind(kind),
        author=author,
        created_at=created,
        text=text,
        url=url,
        parent_id=parent_id,
        root_id=parent_id,
        subject_id=subject,
        # what the connector would give: the post to answer (demo accounts
        # have no credentials, so a reply from the demo explains it cannot)
        reply_ref=external_id
        if network != "feed" and kind in ("mention", "reply", "quote", "dm")
        else "",
    )


def _external_id(network, key):
    number = int(key[1:])
    if network == "x":
        return f"18610000000000{number:05d}"
    if network == "mastodon":
        return f"11345000000{number:05d}"
    if network == "bluesky":
        return f"at://did:plc:demo/app.bsky.feed.post/3ldemo{key}"
    return (REVIEW_URL if key.startswith("r") else VIDEO_URL) % key
