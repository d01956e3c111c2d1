import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import RoleAssignment, User
from tests.subprocess_env import child_env

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#Jq-production-like-secret-key-for-the-deploy-check-9fK2mQ8vLw3nR5tY1uB6",
    "ALLOWED_HOSTS": "portal.example.org",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_COOKIES": "true",
    "SECURE_HSTS_SECONDS": "31536000",
}


def _manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=child_env(**env), capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db
def test_production_settings_pass_the_deploy_check():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_production_without_a_secret_key_fails_with_a_hint():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={k: v for k, v in child_env(**env).items() if k != "SECRET_KEY"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.django_db
def test_seed_demo_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused when DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_users_once(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    emails = set(User.objects.values_list("email", flat=True))
    assert {
        "researcher@example.org",
        "lead@example.org",
        "checker@example.org",
        "checker2@example.org",
        "governance@example.org",
        "admin@example.org",
    } == emails
    assert RoleAssignment.objects.filter(user__email="checker2@example.org", role="output_checker").exists()
    assert all(user.totpdevice_set.filter(confirmed=True).count() == 1 for user in User.objects.all())


@pytest.mark.django_db
def test_healthz_answers_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
