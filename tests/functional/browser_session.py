"""Browser pages signed in as a user (both factors): without typing the sign-in
(the session made as the sign-in makes it, handed to the browser), or typed."""

from __future__ import annotations

from django.test import Client

from tests.factories.accounts import PASSWORD
from tests.helpers import sign_in_verified, totp_code


def signed_in_page(browser, live_server, user, **context_options):
    context = browser.new_context(**context_options)
    if user is not None:
        client = sign_in_verified(Client(), user)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def sign_in_typed(page, base, email, device):
    """Sign in as a person does: e-mail and password, then the six-digit code of ``device``."""
    page.goto(base + "/accounts/sign-in/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Six-digit code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")
