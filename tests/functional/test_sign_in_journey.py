"""A researcher signs in with password and TOTP in a real browser and sees the dashboard."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories.accounts import PASSWORD, UserFactory
from tests.helpers import totp_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_researcher_signs_in_with_password_and_code_and_sees_dashboard(live_server, page):
    user = UserFactory(email="rosa@example.org", full_name="Rosa Researcher", accredited=True)
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)

    page.goto(live_server.url + "/")
    assert "/accounts/sign-in/" in page.url
    page.get_by_label("E-mail address").fill("rosa@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/accounts/two-factor/verify/**")
    page.get_by_label("Six-digit code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()

    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", name="Welcome, Rosa Researcher").is_visible()
    assert page.get_by_text("Accredited: you may work with data").is_visible()


def test_wrong_password_shows_an_error_in_the_browser(live_server, page):
    UserFactory(email="rosa@example.org")
    page.goto(live_server.url + "/accounts/sign-in/")
    page.get_by_label("E-mail address").fill("rosa@example.org")
    page.get_by_label("Password").fill("not-my-password")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("alert").inner_text().strip() == "E-mail address or password not recognised."


def test_new_user_enrols_an_authenticator_from_the_shown_key(live_server, page):
    user = UserFactory(email="new@example.org")
    page.goto(live_server.url + "/accounts/sign-in/")
    page.get_by_label("E-mail address").fill("new@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/two-factor/set-up/**")
    assert page.locator(".qr svg").is_visible()

    from base64 import b32decode

    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    page.get_by_label("Six-digit code").fill(totp_code(device))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_text("Two-factor authentication is set up").is_visible()
