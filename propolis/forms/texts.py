"""The forms' own user-facing texts, in both languages (metadata supplies the rest)."""

from __future__ import annotations

from collections.abc import Mapping

from propolis.platform.errors import t

LANGS = ("zh", "en")

CHOOSE = t("请选择", "Choose…")
YES = t("是", "Yes")
NO = t("否", "No")
ADD_ROW = t("添加一行", "Add a row")
REMOVE_ROW = t("删除此行", "Remove this row")
ROW_ACTIONS = t("操作", "Actions")
OTHER_SECTION = t("其他", "Other")
LATITUDE = t("纬度", "Latitude")
LONGITUDE = t("经度", "Longitude")
ADDRESS = t("地址", "Address")
PROVINCE = t("省份", "Province")
CITY = t("城市", "City")
DISTRICT = t("区县", "District")
USE_MY_LOCATION = t("使用我的位置", "Use my location")
LOOKUP_HINT = t("输入名称搜索", "Type to search")
NO_MATCH = t("没有匹配的记录", "No matching records")
REMOVE_FILE = t("移除", "Remove")
FILE_TOO_BIG = t("文件超过 {mb} MB 上限：{name}", "Larger than {mb} MB: {name}")
FILE_WRONG_TYPE = t("不支持的文件类型：{name}", "Not an accepted type: {name}")
FILE_TOO_MANY = t("最多 {count} 个文件", "At most {count} files")
UPLOADING = t("正在上传…", "Uploading…")
UPLOAD_FAILED = t("上传失败：{name}", "Upload failed: {name}")
ENTER_NUMBER = t("请输入数字", "enter a number")
ENTER_DATETIME = t("请输入日期和时间，如 2026-11-28 09:30",
                   "enter a date and time, e.g. 2026-11-28 09:30")


def pick(text: Mapping[str, str], lang: str) -> str:
    """A ``{"zh", "en"}`` text in ``lang`` (falling back to the other language)."""
    return text.get(lang) or text.get("en") or text.get("zh") or ""


def files_count(count: int, lang: str) -> str:
    return f"{count} 个文件" if lang == "zh" else f"{count} file{'s' * (count != 1)}"
