"""Fakes that speak real wire formats on loopback, for the whole test suite.

* :mod:`tests.fakes.fake_providers`: ``FakeProviders`` (OpenAI, Groq, Anthropic, Gemini,
  Vercel AI Gateway on one server), ``Behaviour``, ``RecordedRequest``; also runnable
  as ``python -m tests.fakes.fake_providers --port N``.
* :mod:`tests.fakes.fixtures`: the ``fake_providers`` pytest fixture.

Nothing is imported here, so running the fake server as a module stays clean.
"""
