"""The command line, run in-process against feeds served on 127.0.0.1."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from social_crm_module import cli
from social_crm_module.testing import FakeServer

FIXTURES = Path(__file__).parent / "fixtures" / "feed"
ROOT = Path(__file__).resolve().parents[2]
PATH = "/feed.xml"
SECRET = "test-cli-secret-never-printed"


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def serve(server, name, **kwargs):
    return server.add("GET", PATH, body=(FIXTURES / name).read_bytes(), **kwargs)


def run(*argv, environ=None):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err, environ=environ or {})
    return code, out.getvalue(), err.getvalue()


def feed_args(server, *extra):
    return ("--network", "feed", "--base-url", server.url + PATH, "--timeout", "2", *extra)


def final_cursor(err):
    (line,) = [line for line in err.splitlines() if line.startswith("cursor: ")]
    return line.removeprefix("cursor: ")


# -- fetch ------------------------------------------------------------------------------


def test_fetch_prints_json_lines_and_the_cursor(server):
    serve(server, "rss2.xml", headers={"ETag": '"v1"'})
    code, out, err = run("fetch", *feed_args(server))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [item["external_id"] for item in lines] == [
        "https://reviews.example/acme/r/1001",
        "https://reviews.example/acme/r/1002",
        "review-1003",
    ]
    roast = lines[2]
    assert roast["network"] == "feed"
    assert roast["kind"] == "post"
    assert roast["created_at"] == "2026-11-21T08:30:00+00:00"
    assert roast["author"]["handle"] == "Hannah K."
    assert "pages: 1, interactions: 3, skipped: 0" in err
    assert json.loads(final_cursor(err))["e"] == '"v1"'


def test_flags_before_the_command_and_options(server):
    serve(server, "atom.xml")
    code, out, _err = run(*feed_args(server, "--option", "kind=comment"), "fetch")
    assert code == 0
    assert {json.loads(line)["kind"] for line in out.splitlines()} == {"comment"}


def test_cursor_flag_resumes(server):
    serve(server, "rss2.xml", times=1, headers={"ETag": '"v1"'})
    serve(server, "rss2_updated.xml", headers={"ETag": '"v2"'})
    _code, _out, err = run("fetch", *feed_args(server))
    code, out, err = run("fetch", *feed_args(server, "--cursor", final_cursor(err)))
    assert code == 0
    assert [json.loads(line)["external_id"] for line in out.splitlines()] == ["review-1004"]
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'


def test_cursor_file_is_read_and_saved(server, tmp_path):
    serve(server, "rss2.xml", times=1, headers={"ETag": '"v1"'})
    server.add("GET", PATH, status=304)
    cursor_file = tmp_path / "feed.cursor"
    code, out, _err = run("fetch", *feed_args(server, "--cursor-file", str(cursor_file)))
    assert code == 0
    assert len(out.splitlines()) == 3
    saved = cursor_file.read_text().strip()
    assert json.loads(saved)["e"] == '"v1"'

    code, out, err = run("fetch", *feed_args(server, "--cursor-file", str(cursor_file)))
    assert (code, out) == (0, "")
    assert final_cursor(err) == saved  # 304: unchanged
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'
    assert cursor_file.read_text().strip() == saved


def test_max_pages_stops_the_walk(server):
    serve(server, "rss2_updated.xml")
    code, out, err = run("fetch", *feed_args(server, "--option", "limit=1", "--max-pages", "2"))
    assert code == 0
    assert len(out.splitlines()) == 2
    assert "pages: 2, interactions: 2" in err
    assert len(server.requests) == 2


def test_config_file_and_environment_credentials(server, tmp_path):
    serve(server, "youtube.xml")
    config = tmp_path / "feed.json"
    config.write_text(
        json.dumps(
            {"network": "feed", "base_url": server.url + PATH, "options": {"kind": "comment"}}
        )
    )
    code, out, _err = run("fetch", "--config", str(config))
    assert code == 0
    (video,) = [json.loads(line) for line in out.splitlines()]
    assert video["kind"] == "comment"


def test_credentials_from_env_are_sent_but_never_printed(server):
    server.add("GET", "/api/v1/notifications", status=401, json={"error": "bad token"})
    environ = {"SCRM_ACCESS_TOKEN": SECRET}
    code, out, err = run(
        "fetch", "--network", "mastodon", "--base-url", server.url, environ=environ
    )
    assert code == 3
    assert "auth error" in err
    assert server.requests[0].headers["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in out + err


# -- check and profiles ------------------------------------------------------------------


def test_check_describes_the_feed(server):
    serve(server, "youtube.xml")
    code, out, _err = run("check", *feed_args(server))
    assert code == 0
    author = json.loads(out)
    assert author["display_name"] == "Tiny Home Tours"
    assert author["profile_url"] == "https://www.youtube.com/channel/UCtinyhometours0000000000"


def test_profiles_not_supported_on_feeds(server):
    code, out, err = run("profiles", "alice", "bob", *feed_args(server))
    assert code == 6
    assert out == ""
    assert "not_supported" in err
    assert server.requests == []


# -- exit codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "code", "message"),
    [
        (401, {}, 3, "auth error: feed: HTTP 401"),
        (403, {}, 3, "auth error: feed: HTTP 403"),
        (429, {"Retry-After": "Sun, 22 Nov 2026 13:00:00 GMT"}, 4, "2026-11-22T13:00:00+00:00"),
        (429, {}, 4, "retry_at: unknown"),
        (500, {}, 5, "transient error: feed: HTTP 500"),
        (404, {}, 6, "error (not_found): feed: HTTP 404"),
    ],
)
def test_http_errors_map_to_exit_codes(server, status, headers, code, message):
    server.add("GET", PATH, status=status, headers=headers, body="")
    result, out, err = run("fetch", *feed_args(server))
    assert result == code
    assert out == ""
    assert message in err


def test_timeout_is_transient(server):
    serve(server, "rss2.xml", delay=1.0)
    code, _out, err = run("fetch", *feed_args(server, "--timeout", "0.2"))
    assert code == 5
    assert "no answer within 0.2s" in err


@pytest.mark.parametrize("name", ["truncated.xml", "billion_laughs.xml", "not_xml.html"])
def test_payload_errors_exit_6(server, name):
    serve(server, name)
    code, out, err = run("fetch", *feed_args(server))
    assert (code, out) == (6, "")
    assert "error (payload): feed:" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), ""),
        (("fetch",), "say which network"),
        (("fetch", "--network", "myspace"), ""),
        (("fetch", "--network", "feed", "--base-url", "ftp://x"), "http(s)"),
        (("fetch", "--network", "feed", "--option", "novalue"), "KEY=VALUE"),
        (
            ("fetch", "--network", "feed", "--option", "knd=comment"),
            "unknown feed option 'knd' (known: kind, limit)",
        ),
        (("fetch", "--config", "/nonexistent/scrm.json"), "cannot read the config file"),
        (
            ("fetch", "--network", "feed", "--base-url", "http://127.0.0.1:9/", "--max-pages", "0"),
            "--max-pages",
        ),
        (("fetch", "--cursor", "a", "--cursor-file", "b"), ""),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    code, _out, err = run(*argv)
    assert code == 2
    assert message in err + capsys.readouterr().err


def test_bad_config_json_is_usage(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text("{not json")
    code, _out, err = run("check", "--config", str(config))
    assert (code, err) == (2, "error: the config file is not valid JSON\n")


def test_python_dash_m_entry_point(server):
    serve(server, "youtube.xml")
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "social_crm_module", "fetch", *feed_args(server)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["external_id"] == "yt:video:aBcDeFgHiJk"
    assert "cursor: {" in result.stderr


def test_an_unknown_option_in_the_config_file_is_refused(tmp_path, capsys):
    config = tmp_path / "scrm.json"
    config.write_text(json.dumps({"network": "mastodon", "options": {"visibility": "private"}}))
    code, _out, err = run("fetch", "--config", str(config))
    assert code == 2
    assert "unknown mastodon option 'visibility'" in err + capsys.readouterr().err
