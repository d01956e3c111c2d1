"""A browser page signed in as a user (both factors), without typing the
sign-in: the session is made as the sign-in makes it and handed to the browser."""

from __future__ import annotations

from django.test import Client

from tests.helpers import sign_in_verified


def signed_in_page(browser, live_server, user, **context_options):
    context = browser.new_context(**context_options)
    if user is not None:
        client = sign_in_verified(Client(), user)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page
