"""Accounts: registration, login with captcha and back-off, sessions and devices,
passwords, personal API tokens; the login, registration, account and admin
console pages, with the shared page layout and the translations they use."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".pages")
    config.include(".routes")
    config.scan(".")
