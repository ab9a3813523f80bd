"""The classifier's helper process: the same results as in this process, and never a
lost result when the helper fails."""

import io
import json
import os

import pytest

from social_crm_module import sentiment
from social_crm_module.classifier import helper

POSTS = [row["text"] for row in sentiment.labelled_posts()]


@pytest.fixture(autouse=True)
def _fresh():
    """Each test with no helper, no back-off, and the model it found."""
    before, models = sentiment.model_in_use(), dict(sentiment._MODELS)
    helper._disabled_until = 0.0
    yield
    current = getattr(helper._local, "helper", None)
    if current is not None:
        current.close()
        helper._local.helper = None
    helper._disabled_until = 0.0
    sentiment._MODELS.clear()
    sentiment._MODELS.update(models)
    sentiment.use_model(before)


def batch(n=40, start=0):
    return [POSTS[(start + k) % len(POSTS)] for k in range(n)] + ["", None]


def test_a_batch_is_classified_by_the_helper_as_it_would_be_here():
    texts = batch()
    wait = helper.start(texts)
    process = helper._local.helper
    assert process is not None and process.alive(), "a batch this size goes to a helper"
    assert process.process.pid != os.getpid()
    assert wait() == sentiment.classify_many(texts)
    # the same helper serves the next batch
    again = batch(start=40)
    assert helper.start(again)() == sentiment.classify_many(again)
    assert helper._local.helper is process


def test_the_vader_rules_go_to_the_helper_too():
    sentiment.use_model("vader")
    texts = batch()
    assert helper.start(texts)() == sentiment.classify_many(texts)
    assert helper._local.helper is not None


def test_a_small_batch_stays_in_this_process():
    texts = batch(helper.MIN_BATCH - 3)
    assert len(texts) < helper.MIN_BATCH
    assert helper.start(texts)() == sentiment.classify_many(texts)
    assert getattr(helper._local, "helper", None) is None


def test_a_model_registered_here_is_never_sent_away():
    mine = sentiment.Classification("question", 0.0, "neutral", confidence=0.5)
    sentiment.register_model("mine", lambda text, lang=None: mine)
    sentiment.use_model("mine")
    texts = batch()
    assert helper.start(texts)() == [mine] * 40 + [sentiment.EMPTY] * 2
    assert getattr(helper._local, "helper", None) is None
    # nor a built-in name given to another model
    sentiment.register_model("learned", lambda text, lang=None: mine, replace=True)
    sentiment.use_model("learned")
    assert helper.start(texts)()[0] == mine
    assert getattr(helper._local, "helper", None) is None


def test_a_helper_that_dies_loses_nothing_and_is_left_alone_for_a_while():
    texts = batch()
    helper.start(texts)()
    process = helper._local.helper
    wait = helper.start(texts)
    process.process.kill()  # mid-batch, or before: either way
    assert wait() == sentiment.classify_many(texts)
    assert helper._local.helper is None
    assert helper._disabled_until > 0
    # during the back-off, batches are classified here
    assert helper.start(texts)() == sentiment.classify_many(texts)
    assert helper._local.helper is None


def test_an_answer_nobody_waited_for_is_skipped():
    first, second = batch(), batch(start=100)
    helper.start(first)  # abandoned: its caller failed before waiting
    assert helper.start(second)() == sentiment.classify_many(second)


def test_a_forked_child_starts_its_own_helper():
    texts = batch()
    helper.start(texts)()
    process = helper._local.helper
    process.pid = -1  # as a prefork worker sees its parent's helper
    assert helper.start(texts)() == sentiment.classify_many(texts)
    assert helper._local.helper is not process
    assert process.process.poll() is not None, "the inherited helper is closed"


def test_the_helper_loop_answers_each_line_and_reports_a_bad_one():
    read, write = os.pipe()
    lines = [
        {"model": "vader", "texts": ["I love it", None]},
        {"model": "no-such-model", "texts": ["x"]},
    ]
    os.write(write, b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    os.write(write, b"not json\n")
    os.close(write)
    out = io.BytesIO()
    helper.serve(read, out, idle_s=5)
    os.close(read)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(answers) == 3
    love = sentiment.get_model("vader")("I love it")
    assert answers[0]["results"][0] == [love.intent, love.polarity, love.label, love.confidence]
    assert answers[0]["results"][1][0] == sentiment.EMPTY.intent
    assert "no model called" in answers[1]["error"]
    assert "error" in answers[2]


def test_an_idle_helper_exits():
    read, write = os.pipe()
    out = io.BytesIO()
    helper.serve(read, out, idle_s=0.05)  # returns: nothing came
    os.close(read)
    os.close(write)
    assert out.getvalue() == b""


def test_warm_starts_the_helper_that_then_serves_the_first_batch():
    helper.warm()
    process = helper._local.helper
    assert process is not None and process.alive()
    texts = batch()
    assert helper.start(texts)() == sentiment.classify_many(texts)
    assert helper._local.helper is process


def test_warm_starts_nothing_for_a_model_of_this_process():
    sentiment.register_model("mine", lambda text, lang=None: sentiment.EMPTY)
    sentiment.use_model("mine")
    helper.warm()
    assert getattr(helper._local, "helper", None) is None
