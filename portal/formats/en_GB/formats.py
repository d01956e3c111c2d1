"""Input formats for en-GB, ISO first.

A browser's ``<input type="date">`` takes and sends its value as ISO 8601
(``2026-11-01``) whatever the user's locale; a value in Django's en-GB input
format (``01/11/2026``) shows as an empty field and is saved back empty. The
first input format is the one widgets render with, so ISO comes first and
the British formats stay accepted on input. Display formats are Django's.
"""

from django.conf.locale.en_GB import formats as _django

DATE_INPUT_FORMATS = ["%Y-%m-%d", *_django.DATE_INPUT_FORMATS]
DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", *_django.DATETIME_INPUT_FORMATS]
