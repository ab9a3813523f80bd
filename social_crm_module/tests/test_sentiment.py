"""Intent and sentiment: negation, emojis, caps, each intent, the plug-in seam, and
the held-out accuracy measured from the labelled CSV."""

import csv
import hashlib
import time

import pytest

from social_crm_module import sentiment
from social_crm_module.classifier import features, linear, train
from social_crm_module.classifier.learned import LearnedModel
from social_crm_module.sentiment import Classification, classify

#: measured on the held-out split with the learned model (readme/SENTIMENT.md),
#: minus a margin of about four posts (the VADER rules alone scored 69.5% / 82.9%)
INTENT_FLOOR = 0.78
LABEL_FLOOR = 0.83


@pytest.fixture(autouse=True)
def _restore_model():
    before, models = sentiment.model_in_use(), dict(sentiment._MODELS)
    yield
    sentiment._MODELS.clear()
    sentiment._MODELS.update(models)
    sentiment.use_model(before)


def polarity(text):
    return classify(text).polarity


# ------------------------------------------------------------------ polarity


@pytest.mark.parametrize("text", ["not bad", "Not bad at all", "The food was not bad"])
def test_not_bad_is_not_negative(text):
    assert classify(text).label != "negative"
    assert polarity(text) > 0


def test_negation_turns_positive_words_negative():
    assert classify("The update is not good").label == "negative"
    assert polarity("I don't like the new menu") < 0 < polarity("I like the new menu")


@pytest.mark.parametrize(
    ("text", "label"),
    [("😍", "positive"), ("😡", "negative"), ("🙂", "positive"), ("😭", "negative")],
)
def test_emoji_alone_carries_sentiment(text, label):
    assert classify(text).label == label


def test_emoji_adds_to_words():
    assert polarity("Nice jacket 😍") > polarity("Nice jacket")
    assert polarity("Delivery took a week 😡") < polarity("Delivery took a week")


def test_caps_and_exclamation_marks_intensify():
    assert polarity("The service was GREAT") > polarity("The service was great")
    assert polarity("The service was awful") > polarity("The service was AWFUL")
    assert polarity("The service was great!!!") > polarity("The service was great")


def test_polarity_is_bounded_and_labelled_consistently():
    for text in ["GOOD GOOD GOOD!!!!! 😍😍😍", "worst worst WORST 😡😡😡!!!", "ok", "meh"]:
        got = classify(text)
        assert -1 <= got.polarity <= 1
        assert got.label == sentiment.label_for(got.polarity)


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty_text_is_other_and_neutral(text):
    assert classify(text) == Classification("other", 0.0, "neutral")


# ------------------------------------------------------------------- intents


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("The new blender is wonderful, thank you!", "praise"),
        ("Your support team is amazing", "praise"),
        ("My parcel arrived broken and nobody answers", "complaint"),
        ("Worst checkout ever, it charged me twice", "complaint"),
        ("What time do you close on Sundays?", "question"),
        ("does the kettle have an auto shut-off", "question"),
        ("Where can I buy the green one?", "purchase_intent"),
        ("How much is the 2-litre version", "purchase_intent"),
        ("I want to order ten of these for the office", "purchase_intent"),
        ("take my money already", "purchase_intent"),
        ("Off to the gym", "other"),
        ("Board meeting moved to Tuesday", "other"),
    ],
)
def test_each_intent(text, intent):
    assert classify(text).intent == intent


def test_complaint_is_negative_even_with_sarcastic_praise():
    got = classify("Wonderful, my order arrived broken again. Just perfect.")
    assert got.intent == "complaint"
    assert got.label == "negative"


def test_negated_complaint_word_is_not_a_complaint():
    assert classify("Never had a broken one in ten years, love them").intent != "complaint"


def test_negated_buying_signal_is_not_purchase_intent():
    assert classify("I would never buy this").intent != "purchase_intent"


# --------------------------------------------------------------- the seam


def fixed(intent, value):
    def model(text, lang=None):
        return Classification(intent, value, sentiment.label_for(value))

    return model


def test_a_registered_model_replaces_the_default_for_every_caller():
    seen = []

    def model(text, lang=None):
        seen.append((text, lang))
        return Classification("question", -0.5, "negative")

    sentiment.register_model("test-model", model)
    sentiment.use_model("test-model")
    assert sentiment.model_in_use() == "test-model"
    assert classify("I love it", lang="en") == Classification("question", -0.5, "negative")
    assert sentiment.classify_many(["a", "b"], lang=["fr", "de"])[1].intent == "question"
    assert seen == [("I love it", "en"), ("a", "fr"), ("b", "de")]
    sentiment.use_model("vader")
    assert classify("I love it").intent == "praise"


def test_a_model_with_classify_many_gets_the_batch_and_empty_text_stays_other():
    calls = []

    class Batched:
        def __call__(self, text, lang=None):
            raise AssertionError("the batch path should be used")

        def classify_many(self, texts, langs):
            calls.append(list(texts))
            return [Classification("praise", 0.9, "positive") for _ in texts]

    sentiment.register_model("batched", Batched())
    sentiment.use_model("batched")
    results = sentiment.classify_many(["good", "", "great"])
    assert calls == [["good", "", "great"]]
    assert [r.intent for r in results] == ["praise", "other", "praise"]


def test_registry_refuses_mistakes():
    with pytest.raises(ValueError, match="no model called 'nope'"):
        sentiment.use_model("nope")
    sentiment.register_model("twice", fixed("other", 0.0))
    with pytest.raises(ValueError, match="already registered"):
        sentiment.register_model("twice", fixed("other", 0.0))
    sentiment.register_model("twice", fixed("praise", 0.5), replace=True)
    with pytest.raises(TypeError):
        sentiment.register_model("not-callable", object())
    sentiment.register_model("bad", lambda text, lang=None: ("praise", 1.0))
    sentiment.use_model("bad")
    with pytest.raises(TypeError, match="not Classification"):
        classify("hello")


@pytest.mark.parametrize(
    ("intent", "value", "label", "message"),
    [
        ("happy", 0.5, "positive", "unknown intent"),
        ("praise", 1.5, "positive", r"polarity must lie in \[-1, 1\]"),
        ("praise", float("nan"), "positive", "polarity must lie"),
        ("praise", 0.5, "good", "unknown label"),
    ],
)
def test_classification_validates_itself(intent, value, label, message):
    with pytest.raises(ValueError, match=message):
        Classification(intent, value, label)


def test_classify_many_matches_classify_and_checks_languages():
    texts = ["Love it!", "", "where can I buy one?", "My order is late"]
    assert sentiment.classify_many(texts) == [classify(t) for t in texts]
    with pytest.raises(ValueError, match="one language per text"):
        sentiment.classify_many(texts, lang=["en"])


def test_classify_many_is_fast_on_cpu():
    texts = [row["text"] for row in sentiment.labelled_posts()] * 3
    sentiment.classify_many(texts[:1])  # loads the lexicon
    started = time.perf_counter()
    sentiment.classify_many(texts)
    assert time.perf_counter() - started < 5.0  # ~1000 posts; about 0.2 s here


# ------------------------------------------------------------- the data set


def test_labelled_set_is_large_varied_and_split_by_its_fixed_rule():
    with sentiment.LABELLED_POSTS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 300
    assert len({row["text"] for row in rows}) == len(rows)
    for row in rows:
        assert row["intent"] in sentiment.INTENTS
        assert row["polarity_label"] in sentiment.LABELS
        digest = int(hashlib.sha256(row["text"].encode()).hexdigest(), 16)
        assert row["split"] == ("test" if digest % 10 < 3 else "dev"), row["text"]
    test_rows = [row for row in rows if row["split"] == "test"]
    assert {row["intent"] for row in test_rows} == set(sentiment.INTENTS)
    tags = {tag for row in rows for tag in row["tags"].split(";")}
    assert {"sarcasm", "emoji", "typo", "non_english"} <= tags
    assert len({row["lang"] for row in rows}) >= 5


def test_held_out_accuracy_stays_above_the_measured_floor():
    report, _per_tag, _misses = sentiment.evaluate(sentiment.labelled_posts("test"))
    assert report.n >= 90
    assert report.intent_accuracy >= INTENT_FLOOR, report.intent_confusion
    assert report.label_accuracy >= LABEL_FLOOR, report.label_confusion


#: measured on the blind sets (readme/SENTIMENT.md: 84.0% / 82.7% / 1 and 78.7% /
#: 81.0% / 2 of 75), minus about three posts; the issue's targets are 75%, 80%, 3
BLIND_FLOORS = {"blind1": (0.83, 0.81, 2), "blind2": (0.77, 0.80, 3)}


def _blind(name):
    return [
        {"text": r.text, "intent": r.intent, "polarity_label": r.label, "lang": r.lang, "tags": []}
        for r in train.blind_rows(name)
    ]


@pytest.mark.parametrize("name", sorted(BLIND_FLOORS))
def test_blind_sets_stay_above_their_floors(name):
    """Posts written by people who never saw the training corpus."""
    intent_floor, label_floor, most_complaints_as_praise = BLIND_FLOORS[name]
    report, _per_tag, _misses = sentiment.evaluate(_blind(name))
    assert report.n == 300
    assert report.intent_accuracy >= intent_floor, report.intent_confusion
    assert report.label_accuracy >= label_floor, report.label_confusion
    assert report.intent_confusion[("complaint", "praise")] <= most_complaints_as_praise


def test_the_blind_sets_are_never_trained_on():
    trained = {train._key(row.text) for row in train.corpus()}
    blind = {train._key(row.text) for row in train.blind_rows()}
    assert len(train.blind_rows()) == 600
    assert blind
    assert not trained & blind


def test_the_blind_floors_reject_the_old_rules():
    sentiment.use_model("vader")
    report, _per_tag, _misses = sentiment.evaluate(_blind("blind2"))
    assert report.intent_accuracy < BLIND_FLOORS["blind2"][0]
    assert report.intent_confusion[("complaint", "praise")] > BLIND_FLOORS["blind2"][2]


def test_word_by_word_ngram_sums_give_the_same_scores():
    """The fast path (n-gram weights summed per word, kept) is the model itself."""
    model = LearnedModel.load()
    vader = model.vader
    for text in ["amazng coffe!!", "The service was GREAT", "Nie wieder. Kaputt 😡", "ok ok ok"]:
        whole = model.model.scores(features_of(text, vader))
        vector, words, weight = features.featurize_split(text, vader.polarity_scores, vader.cues)
        split = model.model.scores_split(vector, words, weight)
        assert split == pytest.approx(whole, abs=1e-9)


def features_of(text, vader):
    return features.featurize(text, vader.polarity_scores, vader.cues)


def test_the_vader_rules_alone_stay_what_they_were():
    sentiment.use_model("vader")
    report, _per_tag, _misses = sentiment.evaluate(sentiment.labelled_posts("test"))
    assert report.intent_accuracy >= 0.65
    assert report.label_accuracy >= 0.77
    assert report.intent_accuracy < INTENT_FLOOR  # the learned model is the better one


def test_the_floor_rejects_a_trivial_model():
    sentiment.register_model("always-other", fixed("other", 0.0))
    sentiment.use_model("always-other")
    report, _per_tag, _misses = sentiment.evaluate(sentiment.labelled_posts("test"))
    assert report.intent_accuracy < INTENT_FLOOR
    assert report.label_accuracy < LABEL_FLOOR


# ------------------------------------------------------------ the learned model

#: in the spirit of the issue's examples, none of them in the training corpus
UNSEEN = [
    ("Wow, the app signed me out halfway through paying. Brilliant feature.", "complaint"),
    ("Really enjoying the 40 minute hold music, thanks 🙃", "complaint"),
    ("This bakery used to be the best. Since the new owners the bread is stale.", "complaint"),
    ("Lovely colour, awful stitching.", "complaint"),
    ("my gas bill is bigger than my mortgage lol", "complaint"),
    ("amazng pizza, best in twon", "praise"),
    ("Your tea has ruined every other tea for me 😤", "praise"),
    ("🍕❤️", "praise"),
    ("How much is the large backpack? Want to order one", "purchase_intent"),
    ("Do you still have the green jacket in medium? Ready to buy", "purchase_intent"),
    ("What time does the shop open on Saturday?", "question"),
    ("The parcel never showed up and support ignores my emails", "complaint"),
    ("Honestly the friendliest staff in town, thank you!", "praise"),
    ("Le service client est nul, toujours pas de réponse", "complaint"),
    ("Me encanta este café, el mejor de la ciudad", "praise"),
    ("Wie viel kostet die rote Jacke?", "purchase_intent"),
]


def test_the_unseen_examples_are_not_in_the_training_corpus():
    trained = {row.text.lower() for row in train.corpus()}
    assert not {text.lower() for text, _intent in UNSEEN} & trained


@pytest.mark.parametrize(("text", "intent"), UNSEEN)
def test_the_learned_model_reads_sarcasm_then_and_now_mixed_slang_and_emoji(text, intent):
    assert sentiment.model_in_use() == "learned"
    got = classify(text)
    assert got.intent == intent, got
    if intent == "complaint":
        assert got.label == "negative"
    if intent == "praise":
        assert got.label == "positive"


def test_the_vader_rules_get_several_of_those_wrong():
    """The unseen examples are not trivial: the rules alone miss several of them."""
    sentiment.use_model("vader")
    wrong = [text for text, intent in UNSEEN if classify(text).intent != intent]
    assert len(wrong) >= 5, wrong


def test_confidence_is_in_range_and_low_on_gibberish():
    texts = [row["text"] for row in sentiment.labelled_posts("test")]
    results = sentiment.classify_many(texts)
    assert all(0.0 <= r.confidence <= 1.0 for r in results)
    assert sum(r.confident for r in results) > len(results) / 2
    for gibberish in ["qwzx plorf vintak zzub", "blorptastic fnord quux", "xkcd zzz vvv"]:
        got = classify(gibberish)
        assert got.confidence < sentiment.CONFIDENT_AT, got
        assert not got.confident
    assert classify("Terrible service, my order never arrived").confident


def test_a_model_without_confidence_is_confident():
    assert Classification("praise", 0.5, "positive").confidence == 1.0
    with pytest.raises(ValueError, match="confidence must lie"):
        Classification("praise", 0.5, "positive", 1.5)


def test_the_committed_weights_load_and_are_small():
    assert linear.WEIGHTS.stat().st_size < 2 * 1024 * 1024
    model = linear.load_weights()
    assert len(model.table) > 1000
    assert model.meta["rows"] >= 1000
    first = classify("Nice fabric, terrible fit.")
    sentiment.register_model("reloaded", sentiment._learned(), replace=True)
    sentiment.use_model("reloaded")
    assert classify("Nice fabric, terrible fit.") == first


def test_a_broken_weights_file_falls_back_to_the_rules(tmp_path, caplog):
    broken = tmp_path / "w.json.gz"
    broken.write_bytes(b"not gzip")
    model = sentiment._learned(broken)
    assert isinstance(model, sentiment.VaderModel)
    assert model("I love it").confidence == sentiment.RULES_CONFIDENCE
    assert "learned classifier unavailable" in caplog.text


def test_polarity_and_label_agree_on_the_learned_model():
    for text in ["Nice fabric, terrible fit.", "🚲❤️", "ok", "is it free?", "worst. day. ever."]:
        got = classify(text)
        assert got.label == sentiment.label_for(got.polarity), got


def test_the_learned_model_is_fast():
    texts = [row["text"] for row in sentiment.labelled_posts()] * 3
    sentiment.classify_many(texts[:1])  # loads the weights
    started = time.process_time()  # CPU time: other jobs on the machine do not count
    sentiment.classify_many(texts)
    per_post = (time.process_time() - started) / len(texts)
    assert per_post < 0.002  # about 0.5 ms of CPU here; the target is under 1 ms


# ------------------------------------------------------------------ training


def test_training_is_deterministic_and_a_correction_retrains_it(tmp_path):
    text = "The Zorblax 9 arrived in a purple box"
    base = train.corpus(base=None)  # the labelled dev posts only: quick
    first, second = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    linear.save_weights(train.fit(base), first)
    linear.save_weights(train.fit(base), second)
    assert first.read_bytes() == second.read_bytes()
    before = LearnedModel.load(first)(text)
    assert before.intent != "complaint"

    fixes = tmp_path / "fixes.csv"
    fixes.write_text(
        "text,intent,polarity_label,lang\n"
        f"{text},complaint,negative,en\n"
        "The Zorblax 9 arrived in a purple box with a dent,complaint,negative,en\n",
        encoding="utf-8",
    )
    rows = train.corpus([fixes], base=None)
    assert len(rows) == len(base) + 2
    after_path = tmp_path / "c.json.gz"
    linear.save_weights(train.fit(rows), after_path)
    after = LearnedModel.load(after_path)(text)
    assert (after.intent, after.label) == ("complaint", "negative")


def test_a_correction_replaces_the_corpus_row_and_held_out_posts_are_never_trained_on(tmp_path):
    dev = sentiment.labelled_posts("dev")[0]
    test = sentiment.labelled_posts("test")[0]
    fixes = tmp_path / "fixes.csv"
    with fixes.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "intent", "polarity_label", "lang", "ignored"])
        writer.writerow([dev["text"], "other", "neutral", "en", "x"])
        writer.writerow([test["text"], "other", "neutral", "en", "x"])
    rows = train.corpus([fixes], base=None)
    by_text = {row.text: row for row in rows}
    assert (by_text[dev["text"]].intent, by_text[dev["text"]].weight) == ("other", 3.0)
    assert test["text"] not in by_text
    assert len(rows) == len(sentiment.labelled_posts("dev"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,intent\nhello,praise\n", "missing column"),
        ("text,intent,polarity_label\nhello,happy,positive\n", ":2: unknown intent"),
        ("text,intent,polarity_label\nhi,praise,positive\nhello,praise,good\n", ":3: unknown"),
    ],
)
def test_a_bad_training_csv_is_refused_with_its_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        train.read_csv(path)
