"""The languages Faultline speaks to people, and how a language tag maps to one of them."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """A language every customer-facing text exists in (fault texts, messages, pages)."""

    EN = "en"
    ZH = "zh"
    JA = "ja"


DEFAULT_LANGUAGE = Language.EN


def language_of(tag: str | None) -> Language:
    """The language for a BCP 47 tag ("zh-CN", "ja-JP", "en_GB"); English if we lack it.

    >>> language_of("zh-CN"), language_of("ja"), language_of("fr-FR")
    (<Language.ZH: 'zh'>, <Language.JA: 'ja'>, <Language.EN: 'en'>)
    """
    primary = (tag or "").replace("_", "-").split("-", 1)[0].strip().lower()
    try:
        return Language(primary)
    except ValueError:
        return DEFAULT_LANGUAGE
