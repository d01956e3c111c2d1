"""The dashboard's release totals are shown as every count is: through disclosure control."""

import pytest
from django.test import Client

from tests.factories.accounts import UserFactory
from tests.factories.participants import DataReleaseFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db


def test_release_totals_are_rounded_and_small_ones_hidden(settings):
    settings.DISCLOSURE_THRESHOLD, settings.DISCLOSURE_ROUNDING = 5, 5
    DataReleaseFactory(name="r-totals", counts={"participants": 10_003, "genomes": 3})
    client = sign_in_verified(Client(), UserFactory())
    text = client.get("/").content.decode()
    assert "10,005 participants, &lt;5 genomes." in text
    assert "10003" not in text and "10,003" not in text
