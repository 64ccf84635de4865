"""The forms' own user-facing texts, gettext messages (metadata supplies the rest)."""

from __future__ import annotations

from propolis.platform.errors import _, translate

CHOOSE = _("Choose…")
YES = _("Yes")
NO = _("No")
ADD_ROW = _("Add a row")
REMOVE_ROW = _("Remove this row")
ROW_ACTIONS = _("Actions")
OTHER_SECTION = _("Other")
LATITUDE = _("Latitude")
LONGITUDE = _("Longitude")
ADDRESS = _("Address")
PROVINCE = _("Province")
CITY = _("City")
DISTRICT = _("District")
USE_MY_LOCATION = _("Use my location")
LOOKUP_HINT = _("Type to search")
NO_MATCH = _("No matching records")
REMOVE_FILE = _("Remove")
FILE_TOO_BIG = _("Larger than {mb} MB: {name}")
FILE_WRONG_TYPE = _("Not an accepted type: {name}")
FILE_TOO_MANY = _("At most {count} files")
UPLOADING = _("Uploading…")
UPLOAD_FAILED = _("Upload failed: {name}")
ENTER_NUMBER = _("enter a number")
ENTER_DATETIME = _("enter a date and time, e.g. 2026-11-28 09:30")


def files_count(count: int, lang: str) -> str:
    message = _("${count} file") if count == 1 else _("${count} files")
    return translate(_(message, mapping={"count": count}), lang)
