"""The learned intent and sentiment classifier, and the optional remote one.

- :mod:`.features`: a post as a sparse hashed vector (words, character n-grams,
  VADER and the intent rules as features); pure Python.
- :mod:`.linear`: the weights (``data/classifier_weights.json.gz``) and decoding.
- :mod:`.learned`: :class:`~.learned.LearnedModel`, registered in
  :mod:`..sentiment` as ``"learned"`` (the default model).
- :mod:`.remote`: :class:`~.remote.RemoteClassifier`, an OpenAI-compatible
  chat-completions endpoint with the learned model as fallback.
- :mod:`.train`: rebuilds the weights (needs scikit-learn: training only).

Callers use :mod:`..sentiment` (``classify``, ``classify_many``); nothing here is
needed to classify.
"""
