"""Arabic date and number formats: day before month, the Arabic comma, 24-hour time.

Django's own Arabic formats follow the English order ("نوفمبر 26, 2026"), which
reads wrongly in Arabic.
"""

from __future__ import annotations

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y، H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 6  # Saturday, as in most Arabic-speaking countries
DECIMAL_SEPARATOR = "٫"  # noqa: RUF001 - the Arabic decimal separator is meant
THOUSAND_SEPARATOR = "٬"
NUMBER_GROUPING = 3
