"""Accounts: registration, login with captcha and back-off, sessions and devices,
passwords, personal API tokens, the rate limits of the public routes; the login,
registration, account and admin console pages (their shared plumbing is
``propolis.platform.web.pages``)."""

from pyramid.config import Configurator

from propolis.platform.accounts.services import rate_limits
from propolis.settings import SettingsError


def includeme(config: Configurator) -> None:
    try:
        config.registry.rate_limits = rate_limits(config.get_settings())
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    config.include(".routes")
    config.scan(".")
