from amocrm.tests.conftest import connected, english, sandbox, sandbox_conn  # noqa: F401 - fixtures used here too
