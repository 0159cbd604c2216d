from tests.fakehub.fixtures import _fakehub_session, fakehub  # noqa: F401
