"""Accounts: registration, login with captcha and back-off, sessions and devices,
passwords, personal API tokens (``IAccountService``), the rate limits of the
public routes; the login,
registration, account and admin console pages (their shared plumbing is
``propolis.platform.web.pages``)."""

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.accounts.accounts import AccountService
from propolis.platform.accounts.interfaces import IAccountService
from propolis.platform.accounts.services import (
    end_sessions_after_password_set,
    rate_limits,
)
from propolis.platform.auth.tokens import revoke_user_tokens
from propolis.platform.records.events import PasswordSet, UserDeactivated
from propolis.settings import SettingsError


def _end_sessions(event: PasswordSet) -> None:
    """A password set through a request's record service ends the sessions its
    identity's rules say (``end_sessions_after_password_set``)."""
    request = event.request
    if request.identity is not None:
        end_sessions_after_password_set(request.sysdb, request.identity,
                                        event.user_id)


def _revoke_tokens(event: UserDeactivated) -> None:
    """A user who is no longer active loses every token (as the console's disable
    action does), whoever changed their status: the API, an import, the CLI."""
    request = event.request
    revoke_user_tokens(request.sysdb, request.tenant.id, event.user_id)


def account_service_factory(context: Any, request: Request) -> AccountService:
    """The accounts as the request's caller (or whoever is logging in) uses
    them."""
    return AccountService(request)


def includeme(config: Configurator) -> None:
    try:
        config.registry.rate_limits = rate_limits(config.get_settings())
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    config.register_service_factory(account_service_factory, IAccountService)
    config.add_subscriber(_end_sessions, PasswordSet)
    config.add_subscriber(_revoke_tokens, UserDeactivated)
    config.include(".routes")
    config.scan(".")
