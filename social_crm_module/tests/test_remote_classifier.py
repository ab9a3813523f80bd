"""The optional remote classifier against a scripted chat-completions server on
127.0.0.1: a good answer, and every failure falling back to the local model."""

import json
import logging
from datetime import datetime, timezone

import pytest

from social_crm_module import sentiment
from social_crm_module.classifier.remote import RemoteClassifier, RemoteState, parse_answer
from social_crm_module.sentiment import Classification
from social_crm_module.testing import FakeServer

KEY = "sk-test-0123456789abcdef-not-a-real-key"
PATH = "/v1/chat/completions"


class Local:
    """A fallback that says who answered."""

    def __init__(self):
        self.seen = []

    def __call__(self, text, lang=None):
        self.seen.append(text)
        return Classification("other", 0.0, "neutral", 0.3)


def completion(results) -> dict:
    content = results if isinstance(results, str) else json.dumps({"results": results})
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
    }


def result(n, intent="complaint", label="negative", polarity=-0.8, confidence=0.9, **extra):
    return {
        "id": n,
        "intent": intent,
        "label": label,
        "polarity": polarity,
        "confidence": confidence,
        **extra,
    }


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def remote(server, **kwargs):
    local = kwargs.pop("fallback", None) or Local()
    kwargs.setdefault("deadline_s", 2.0)
    kwargs.setdefault("monthly_cap", 100)
    return RemoteClassifier(server.url, KEY, "test-model", fallback=local, **kwargs), local


def test_a_good_answer_is_used_and_the_request_is_what_we_documented(server):
    server.add(
        "POST",
        PATH,
        json=completion([result(1, "praise", "positive", 0.7), result(0)]),
    )
    model, local = remote(server)
    got = model.classify_many(
        ["Loving the hold music 🙃", "They ruined every other coffee"], ["en", None]
    )
    assert got == [
        Classification("complaint", -0.8, "negative", 0.9),
        Classification("praise", 0.7, "positive", 0.9),
    ]
    assert local.seen == []
    request = server.requests_to(PATH)[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = request.json()
    assert body["model"] == "test-model"
    assert body["response_format"]["json_schema"]["strict"] is True
    posts = json.loads(body["messages"][1]["content"])["posts"]
    assert posts == [
        {"id": 0, "text": "Loving the hold music 🙃", "lang": "en"},
        {"id": 1, "text": "They ruined every other coffee"},
    ]
    assert model.counts["calls"] == 1
    assert model.counts["remote_posts"] == 2
    assert model.counts["fallbacks"] == 0


def test_posts_go_in_batches_and_empty_text_is_not_sent(server):
    server.add("POST", PATH, json=completion([result(0), result(1)]), times=1)
    server.add("POST", PATH, json=completion([result(0)]), times=1)
    model, _local = remote(server, batch_size=2)
    got = model.classify_many(["a", "", "b", "c"], [None] * 4)
    assert [g.intent for g in got] == ["complaint", "other", "complaint", "complaint"]
    assert got[1] == sentiment.EMPTY
    assert [
        len(json.loads(r.json()["messages"][1]["content"])["posts"]) for r in server.requests
    ] == [2, 1]
    assert model.counts["calls"] == 2


def test_the_label_wins_and_polarity_stays_in_its_band(server):
    server.add("POST", PATH, json=completion([result(0, "question", "neutral", 0.6, 0.5)]))
    model, _local = remote(server)
    got = model("is it free?")
    assert got.label == "neutral"
    assert sentiment.label_for(got.polarity) == "neutral"


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (completion("not json at all {"), "not JSON"),
        (completion('["results"]'), "only 'results'"),
        (completion(json.dumps({"results": [result(0)], "extra": 1})), "only 'results'"),
        (completion([result(0, intent="happy")]), "unknown intent"),
        (completion([result(0, label="good")]), "unknown label"),
        (completion([result(0, polarity=1.5)]), "polarity is outside"),
        (completion([result(0, polarity="0.5")]), "polarity is not a number"),
        (completion([result(0, confidence=True)]), "confidence is not a number"),
        (completion([result(0, confidence=-0.1)]), "confidence is outside"),
        (completion([result(0, note="hi")]), "other fields"),
        (completion([result(5)]), "id is not one of the posts"),
        (completion([result(0), result(0)]), "expected 1 results"),
        (completion([]), "expected 1 results"),
        ({"choices": []}, "no choices"),
        ({"choices": [{"message": {"content": None}}]}, "no message content"),
    ],
)
def test_an_answer_outside_the_schema_falls_back(server, answer, why):
    server.add("POST", PATH, json=answer)
    model, local = remote(server)
    got = model("Nice fabric, terrible fit.")
    assert got == Classification("other", 0.0, "neutral", 0.3)
    assert local.seen == ["Nice fabric, terrible fit."]
    assert model.counts["fallbacks"] == 1
    assert model.counts["fallback_posts"] == 1
    assert why in model.state.last_error


def test_a_body_that_is_not_json_falls_back(server):
    server.add(
        "POST", PATH, body="<html>502 Bad Gateway</html>", headers={"Content-Type": "text/html"}
    )
    model, local = remote(server)
    model("hello there")
    assert local.seen == ["hello there"]
    assert "not valid JSON" in model.state.last_error


@pytest.mark.parametrize(
    ("status", "kind"), [(429, "HTTP 429"), (500, "HTTP 500"), (401, "HTTP 401")]
)
def test_http_errors_fall_back_without_retrying(server, status, kind):
    server.add("POST", PATH, status=status, json={"error": "nope"}, headers={"Retry-After": "30"})
    model, local = remote(server)
    model.classify_many(["one", "two"], [None, None])
    assert len(server.requests) == 1  # no retry
    assert local.seen == ["one", "two"]
    assert model.counts["fallbacks"] == 1
    assert model.counts["fallback_posts"] == 2
    assert kind in model.state.last_error


def test_a_slow_server_hits_the_deadline_and_falls_back(server):
    server.add("POST", PATH, json=completion([result(0)]), delay=1.5)
    model, local = remote(server, deadline_s=0.5)
    got = model("where is my parcel")
    assert got.intent == "other"
    assert local.seen == ["where is my parcel"]
    assert "0.5s" in model.state.last_error


def test_the_monthly_cap_stops_calls_and_a_new_month_resets_it(server):
    server.add("POST", PATH, json=completion([result(0)]))
    clock = [datetime(2026, 3, 31, 23, 0, tzinfo=timezone.utc)]
    state = {"month": "2026-03", "calls": 2, "fallbacks": 0}
    model, local = remote(server, monthly_cap=3, state=state, now=lambda: clock[0])
    assert model("first").intent == "complaint"  # call 3 of 3
    assert model("second").intent == "other"  # the cap: local model, no request
    assert len(server.requests) == 1
    assert local.seen == ["second"]
    assert "monthly cap of 3" in model.state.last_error
    saved = model.state.to_dict()
    assert saved["calls"] == 3 and saved["fallbacks"] == 1

    clock[0] = datetime(2026, 4, 1, 0, 5, tzinfo=timezone.utc)
    again, _ = remote(server, monthly_cap=3, state=saved, now=lambda: clock[0])
    assert again("third").intent == "complaint"
    assert again.counts["month"] == "2026-04"
    assert again.counts["calls"] == 1
    assert again.counts["fallbacks"] == 1  # fallbacks are a running total


def test_a_refused_connection_falls_back():
    with FakeServer() as srv:
        url = srv.url
    model = RemoteClassifier(url, KEY, "m", deadline_s=1.0, fallback=Local())
    assert model("hello").confidence == 0.3
    assert model.counts["fallbacks"] == 1


def test_the_key_never_reaches_logs_errors_or_state(server, caplog):
    server.add("POST", PATH, status=401, json={"error": f"invalid key {KEY}"})
    model, _local = remote(server)
    with caplog.at_level(logging.DEBUG):
        model("hello")
    assert model.counts["fallbacks"] == 1
    assert KEY not in caplog.text
    assert KEY not in json.dumps(model.state.to_dict())
    assert KEY not in repr(model)
    assert "***" in model.state.last_error  # the server echoed it; we scrubbed it


def test_the_local_model_by_default_is_the_learned_one(server):
    server.add("POST", PATH, status=500)
    model = RemoteClassifier(server.url, KEY, "m", deadline_s=2.0)
    got = model("They ruined every other coffee for me 😤")
    assert (
        got.intent
        == sentiment.get_model("learned")("They ruined every other coffee for me 😤").intent
    )
    assert model.counts["fallbacks"] == 1


def test_it_plugs_in_behind_classify(server):
    server.add("POST", PATH, json=completion([result(0, "praise", "positive", 0.9, 0.95)]))
    model, _local = remote(server)
    before = sentiment.model_in_use()
    sentiment.register_model("remote-test", model, replace=True)
    try:
        sentiment.use_model("remote-test")
        assert sentiment.classify("so good") == Classification("praise", 0.9, "positive", 0.95)
    finally:
        sentiment.use_model(before)


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com", "http://example.com", "not a url", "http://10.0.0.5:11434"],
)
def test_only_https_or_a_loopback_server(url):
    with pytest.raises(ValueError, match="http"):
        RemoteClassifier(url, KEY, "m")


def test_base_url_with_or_without_v1():
    assert RemoteClassifier("https://api.example.com/v1/", KEY, "m").url == (
        "https://api.example.com/v1/chat/completions"
    )
    assert RemoteClassifier("http://127.0.0.1:11434", "", "m").url == (
        "http://127.0.0.1:11434/v1/chat/completions"
    )


def test_state_from_untrusted_storage_is_sanitised():
    state = RemoteState.from_dict({"calls": "lots", "month": 7, "fallbacks": -3, "other": 1})
    assert state == RemoteState()


def test_parse_answer_keeps_the_order_of_the_posts():
    got = parse_answer(completion([result(1, "question", "neutral", 0.0), result(0)]), 2)
    assert [g.intent for g in got] == ["complaint", "question"]
