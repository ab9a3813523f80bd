"""No secret ever lands in a fixture: every file under tests/fixtures/ is scanned.

What counts as a secret:

- an ``Authorization`` header, or ``Bearer <token>``, with a value;
- a JWT (``eyJ...`` ``.`` ``eyJ...``);
- a private key block;
- a value under a secret-looking key (``password``, ``app_password``,
  ``access_token``, ``refresh_jwt``/``refreshJwt``, ``consumer_secret``, ...);
- a long, high-entropy token (mixed case and digits, 32+ characters).

The one allow-list rule: a value that starts with ``fake-`` or ``test-``, or that
contains ``placeholder`` (any case), is a placeholder and not a secret. For a JWT
the rule applies to its signature part. The scanner itself is tested below on
synthetic bad strings and on placeholders, and the scan of the fixture tree on a
copy of it with a secret planted in a new network's folder, so this test can fail.

One scan for every network: it walks the whole tree, whatever the folder or the
file type, so a network added later is covered without a line here.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import shutil
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

#: key names (lower case, without ``_`` and ``-``) whose values are secrets
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "apppassword",
        "secret",
        "token",
        "accesstoken",
        "accesstokensecret",
        "refreshtoken",
        "accessjwt",
        "refreshjwt",
        "idtoken",
        "authtoken",
        "sessiontoken",
        "bearertoken",
        "oauthtoken",
        "oauthtokensecret",
        "consumerkey",
        "consumersecret",
        "clientsecret",
        "apikey",
        "apisecret",
        "privatekey",
    }
)
#: key endings that name a secret too (``X_API_KEY``, ``brand_password``), while
#: pagination keys such as ``next_token`` stay ordinary data
SECRET_SUFFIXES = (
    "password",
    "passwd",
    "secret",
    "apikey",
    "privatekey",
    "accesstoken",
    "refreshtoken",
    "bearertoken",
    "authtoken",
    "jwt",
)
#: unquoted values that are not secrets (JSON literals)
_LITERALS = frozenset({"null", "none", "true", "false", "[]", "{}"})

_KEY_VALUE = re.compile(
    r"""(?ix)
    (?<![A-Za-z0-9_-])["']?
    (?P<key>[A-Za-z0-9_-]{0,40}?(?:password|passwd|secret|token|jwt|api[_-]?key|private[_-]?key))
    ["']?\s*[:=]\s*
    (?P<quote>["']?)(?P<value>[^"'\s,&;}<>)\]]*)
    """
)
_AUTHORIZATION = re.compile(
    r"""(?i)(?<![A-Za-z0-9_-])(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?P<value>[^"'\r\n<]*)"""
)
_BEARER = re.compile(r"(?i)\b(?:bearer|basic)\s+(?P<value>[A-Za-z0-9._~+/=-]{8,})")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.(?P<value>[A-Za-z0-9_-]*)")
_PRIVATE_KEY = re.compile(r"-----BEGIN[A-Z ]* PRIVATE KEY( BLOCK)?-----")
_TOKEN = re.compile(r"(?<![A-Za-z0-9_+=-])[A-Za-z0-9_+=-]{32,}(?![A-Za-z0-9_+=-])")
#: bits per character above which a mixed-case token looks random
ENTROPY = 4.0


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int
    excerpt: str  # the value masked: never print a real secret in a test report

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule} ({self.excerpt})"


def is_placeholder(value: str) -> bool:
    value = value.strip().strip("\"'")
    lowered = value.lower()
    return lowered.startswith(("fake-", "test-")) or "placeholder" in lowered


def entropy(value: str) -> float:
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_random(token: str) -> bool:
    has = (
        any(c.isupper() for c in token),
        any(c.islower() for c in token),
        any(c.isdigit() for c in token),
    )
    return all(has) and entropy(token) >= ENTROPY


def _mask(value: str) -> str:
    value = value.strip()
    return f"{value[:4]}… ({len(value)} chars)" if len(value) > 4 else "…"


def _headers(line: str):
    for match in _AUTHORIZATION.finditer(line):
        value = match.group("value").strip()
        secret = value.split()[-1] if value.split() else ""
        if secret and not is_placeholder(secret):
            yield "Authorization header", value
    for match in _BEARER.finditer(line):
        if not is_placeholder(match.group("value")):
            yield "Bearer token", match.group("value")


def _jwts_and_keys(line: str):
    if _PRIVATE_KEY.search(line):
        yield "private key", line
    for match in _JWT.finditer(line):
        if not is_placeholder(match.group("value")):
            yield "JWT", match.group(0)


def is_secret_key(key: str) -> bool:
    key = re.sub(r"[_-]", "", key.lower())
    return key in SECRET_KEYS or key.endswith(SECRET_SUFFIXES)


def _key_values(line: str):
    for match in _KEY_VALUE.finditer(line):
        value = match.group("value")
        if not value or not is_secret_key(match.group("key")):
            continue
        if not match.group("quote") and value.lower() in _LITERALS:
            continue
        if not is_placeholder(value):
            yield f"secret under {match.group('key')!r}", value


def _random_tokens(line: str):
    jwt_spans = [m.span() for m in _JWT.finditer(line)]
    for match in _TOKEN.finditer(line):
        if any(start <= match.start() < end for start, end in jwt_spans):
            continue  # judged as a JWT above
        token = match.group(0)
        if looks_random(token) and not is_placeholder(token):
            yield "high-entropy token", token


RULES = (_jwts_and_keys, _headers, _key_values, _random_tokens)


def scan_text(text: str) -> list[Finding]:
    """Every secret-looking thing in ``text``, with its line number."""
    return [
        Finding(rule, number, _mask(value))
        for number, line in enumerate(text.splitlines(), 1)
        for check in RULES
        for rule, value in check(line)
    ]


def scan_file(path: Path) -> list[Finding]:
    return scan_text(path.read_bytes().decode("utf-8", "replace"))


def fixture_files(root: Path = FIXTURES) -> list[Path]:
    """Every file under ``root``, any folder (network), any type."""
    return sorted(p for p in root.rglob("*") if p.is_file())


def scan_fixtures(root: Path = FIXTURES) -> dict[str, list[Finding]]:
    """The findings of every fixture file that has any, by its path under ``root``."""
    findings = {str(path.relative_to(root)): scan_file(path) for path in fixture_files(root)}
    return {name: found for name, found in findings.items() if found}


def report(findings: dict[str, list[Finding]]) -> str:
    return "\n".join(f"{name}: " + "; ".join(map(str, found)) for name, found in findings.items())


# -- the scan ---------------------------------------------------------------------------


def test_there_are_fixtures_to_scan():
    files = fixture_files()
    assert len(files) > 50
    networks = {p.relative_to(FIXTURES).parts[0] for p in files}
    assert {"x", "mastodon", "bluesky", "feed"} <= networks


def test_no_fixture_holds_a_secret():
    findings = scan_fixtures()
    assert not findings, report(findings)


@pytest.mark.parametrize(
    "path",
    [p for p in fixture_files() if p.suffix == ".json"],
    ids=lambda p: str(p.relative_to(FIXTURES)) if p else "",
)
def test_json_fixtures_are_valid_json(path):
    json.loads(path.read_text())


# -- the scanner itself -------------------------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _random_token(length: int = 43, seed: int = 7) -> str:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "-_"
    while True:
        token = "".join(rng.choice(alphabet) for _ in range(length))
        if looks_random(token):
            return token


TOKEN = _random_token()
JWT = ".".join(
    [_b64({"alg": "HS256", "typ": "JWT"}), _b64({"sub": "did:plc:abc", "exp": 1}), TOKEN]
)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (f'{{"headers": {{"Authorization": "Bearer {TOKEN}"}}}}', "Authorization header"),
        (f"Authorization: Basic {TOKEN}", "Authorization header"),
        (f"curl -H 'authorization: token {TOKEN[:20]}'", "Authorization header"),
        (f"sent with bearer {TOKEN[:12]}", "Bearer token"),
        (f'{{"accessJwt": "{JWT}"}}', "JWT"),
        (f"cookie={JWT}", "JWT"),
        ("-----BEGIN RSA PRIVATE KEY-----", "private key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
        ("-----BEGIN PRIVATE KEY-----", "private key"),
        ('{"password": "hunter2"}', "secret under 'password'"),
        ('{"app_password": "abcd-efgh-ijkl-mnop"}', "secret under 'app_password'"),
        ('{"appPassword": "abcd-efgh-ijkl-mnop"}', "secret under 'appPassword'"),
        ('{"access_token": "z9"}', "secret under 'access_token'"),
        ('{"refresh_jwt": "abc.def.ghi"}', "secret under 'refresh_jwt'"),
        ('{"refreshJwt": "abc"}', "secret under 'refreshJwt'"),
        ('{"consumer_secret": "s3cr3t"}', "secret under 'consumer_secret'"),
        ("client_secret=s3cr3t&grant_type=x", "secret under 'client_secret'"),
        ("https://api.example/v1?access_token=abc123&x=1", "secret under 'access_token'"),
        ('<account password="swordfish"/>', "secret under 'password'"),
        ("X_API_KEY: k-12345", "secret under 'X_API_KEY'"),
        (f'{{"blob": "{TOKEN}"}}', "high-entropy token"),
        (
            "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F",
            "high-entropy token",
        ),
    ],
)
def test_scanner_finds_synthetic_secrets(text, rule):
    findings = scan_text("first line\n" + text)
    assert rule in {f.rule for f in findings}, findings
    assert all(f.line == 2 for f in findings)
    for finding in findings:  # the report never repeats the secret
        assert TOKEN not in str(finding)
        assert "hunter2" not in str(finding)


@pytest.mark.parametrize(
    "text",
    [
        '{"access_token": "fake-access-token"}',
        '{"accessJwt": "fake-access-jwt", "refreshJwt": "fake-refresh-jwt-2"}',
        '{"app_password": "test-app-password"}',
        '{"password": "PLACEHOLDER"}',
        '{"consumer_secret": "your-consumer-secret-placeholder"}',
        "Authorization: Bearer fake-token",
        "Authorization: Bearer test-token",
        '"Authorization": ""',
        f"{JWT.rsplit('.', 1)[0]}.fake-signature",
        '{"password": null, "token": "", "refresh_token": true}',
        '{"next_token": "7140dibdnow9c7btw3z3c8xlr2ahd4ca9ndtx3gnshia"}',
        '{"pagination_token": "next-page-3", "error": "The access token is invalid"}',
        '{"message": "Invalid identifier or password"}',
        '{"id": "1858102239574196224", "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz"}',
        '{"cid": "bafyreib2rxk3rh6kzwq7w4rmjbm7ohtb6fmrw4dzinqeu6ywvsvuv3v5ie"}',
        '{"avatar": "https://cdn.example/a/4f9c1e8b2d7a6035c1e9f8b7a6d5c4b3e2f1a0b9c8d7e6f5"}',
        "https://www.reddit.com/r/coffee/comments/1gxyz12/acme_grinder_worth_it_ThreeWords/",
        "Bearer token authentication is described in RFC 6750.",
    ],
)
def test_scanner_leaves_placeholders_and_ordinary_data_alone(text):
    assert scan_text(text) == []


def test_allow_list_rule():
    assert is_placeholder("fake-anything")
    assert is_placeholder("test-token")
    assert is_placeholder("my-Placeholder-value")
    assert not is_placeholder("real-token")
    assert not is_placeholder("s3cr3t-fake-")
    assert not is_placeholder(TOKEN)


def test_the_secret_scan_can_fail(tmp_path):
    """The scan above, run on a copy of the fixtures with one token planted in the
    folder of a network that does not exist yet, reports that file and only it."""
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    assert scan_fixtures(root) == {}  # the copy is as clean as the original
    planted = root / "newnet" / "session.json"
    planted.parent.mkdir()
    planted.write_text(json.dumps({"handle": "ann", "session": TOKEN}, indent=1))
    findings = scan_fixtures(root)
    assert list(findings) == [str(Path("newnet", "session.json"))]
    assert [(f.rule, f.line) for f in findings["newnet/session.json"]] == [
        ("high-entropy token", 3)
    ]
    assert TOKEN not in report(findings)  # the report never repeats the secret


def test_scan_file_flags_a_bad_fixture(tmp_path):
    bad = tmp_path / "session.json"
    bad.write_text(json.dumps({"did": "did:plc:abc", "accessJwt": JWT, "password": "hunter2"}))
    rules = {finding.rule for finding in scan_file(bad)}
    assert {"JWT", "secret under 'accessJwt'", "secret under 'password'"} <= rules
