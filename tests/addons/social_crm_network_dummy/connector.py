"""The engine side of the dummy network: one connector class that registers
itself. It speaks a tiny JSON API, served in the tests by the scripted server."""

from odoo.addons.social_crm_module.social_crm_module.connectors.base import Connector
from odoo.addons.social_crm_module.social_crm_module.errors import AuthError
from odoo.addons.social_crm_module.social_crm_module.http import json_object, request
from odoo.addons.social_crm_module.social_crm_module.interaction import (
    Author,
    Interaction,
    Kind,
    Page,
    parse_datetime,
)


class DummyConnector(Connector):
    code = "dummy"
    label = "Dummy network"
    credential_keys = ("token",)
    required_credentials = ("token",)
    max_text_length = 200
    profile_hosts = frozenset({"dummy.example"})

    @classmethod
    def normalize_handle(cls, text, *, instance=""):
        name = text.removeprefix("~").lower()
        if not name.isalnum():
            raise ValueError(f"invalid dummy handle {text!r}")
        return name

    @classmethod
    def handle_from_profile_url(cls, host, segments):
        if host not in cls.profile_hosts:
            return None
        return cls.normalize_handle(segments[0]) if segments else None

    def _call(self, method, path, **kwargs):
        token = self.credentials.get("token")
        if not token:
            raise AuthError("dummy: no token")
        response = request(
            self.session,
            method,
            f"{self.base_url}{path}",
            network=self.code,
            timeout=self.timeout,
            headers={"Authorization": f"Token {token}"},
            **kwargs,
        )
        return json_object(response, self.code)

    def _author(self, data):
        return Author(
            self.network, data["id"], data["handle"], data.get("name", ""), data.get("url", "")
        )

    def check(self):
        return self._author(self._call("GET", "/me"))

    def fetch(self, cursor=None):
        body = self._call("GET", "/events", params={"after": cursor or ""})
        items = tuple(
            Interaction(
                network=self.network,
                external_id=event["id"],
                kind=Kind(event["kind"]),
                author=self._author(event["author"]),
                created_at=parse_datetime(event["at"]),
                text=event.get("text", ""),
                reply_ref=event["id"],
            )
            for event in body["events"]
        )
        return Page(items=items, cursor=body.get("cursor") or cursor, has_more=False)

    def reply(self, to, text):
        body = self._call("POST", "/reply", json={"to": to, "text": self.check_text(text)})
        return self._posted(body)

    def send_dm(self, author_id, text):
        body = self._call("POST", "/dm", json={"to": author_id, "text": self.check_text(text)})
        return self._posted(body)

    def _posted(self, body):
        return Interaction(
            network=self.network,
            external_id=body["id"],
            kind=Kind.REPLY,
            author=self._author(body["author"]),
            created_at=parse_datetime(body["at"]),
            text=body.get("text", ""),
            url=body.get("url", ""),
        )
