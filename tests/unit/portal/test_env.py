import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list, env_str


def test_env_str_missing_without_default_names_variable_and_hint(monkeypatch):
    monkeypatch.delenv("PORTAL_TEST_VALUE", raising=False)
    with pytest.raises(ImproperlyConfigured, match=r"PORTAL_TEST_VALUE is not set\. Use a URL"):
        env_str("PORTAL_TEST_VALUE", hint="Use a URL.")


def test_env_str_default_used_when_missing(monkeypatch):
    monkeypatch.delenv("PORTAL_TEST_VALUE", raising=False)
    assert env_str("PORTAL_TEST_VALUE", "fallback") == "fallback"


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("1", True), ("ON", True), ("false", False), ("0", False)]
)
def test_env_bool_parses_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("PORTAL_TEST_FLAG", raw)
    assert env_bool("PORTAL_TEST_FLAG") is expected


def test_env_bool_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="must be true or false"):
        env_bool("PORTAL_TEST_FLAG")


def test_env_int_rejects_non_numbers(monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("PORTAL_TEST_NUMBER")


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_LIST", " a.org, b.org ,,")
    assert env_list("PORTAL_TEST_LIST") == ["a.org", "b.org"]
