"""The web layer: per-request plumbing (the databases, the enterprise's metadata,
the language), what every HTML page shares (``pages``) and what every JSON answer
shares (``api``). Below every package with views, above the services."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request
from sqlalchemy.orm import Session
from zope.sqlalchemy.datamanager import STATUS_CHANGED, join_transaction

from propolis.platform.db import Database
from propolis.platform.meta.effective import Effective, effective_cache, load_effective

LANGUAGES = ("zh", "en")
# the language switch's choice; pages and the API calls they make follow it
LANG_COOKIE = "propolis_lang"


def _join(request: Request, session: Session) -> Session:
    # Generated tables are written with Core statements, which zope.sqlalchemy can't
    # see; "changed" from the start makes the request's transaction commit them.
    # The session lives for this one transaction, so it is joined to it directly:
    # zope.sqlalchemy's register() would attach seven event listeners per session
    # (about a third of a bare read's cost) only to join on the first statement.
    join_transaction(session, STATUS_CHANGED, transaction_manager=request.tm)
    return session


def _sysdb(request: Request) -> Session:
    return _join(request, request.registry.database.system_sessionmaker())


def _db(request: Request) -> Session:
    """The enterprise's own storage; which enterprise comes from the login, never
    from the URL."""
    identity = request.identity
    if identity is None:
        raise RuntimeError("request.db needs an authenticated request")
    return _join(request, request.registry.database.tenant_session(identity.account))


def _effective(request: Request) -> Effective:
    identity = request.identity
    return effective_cache.get(
        identity.account,
        identity.metadata_version,
        lambda: load_effective(request.db.connection(), identity.metadata_version),
    )


def _lang(request: Request) -> str:
    """The cookie the language switch sets, else Accept-Language, else Chinese."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_language.lookup(["zh", "en"], default="zh")
    return best if best in LANGUAGES else "zh"


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    config.registry.database = Database(
        settings["propolis.database_url"], settings.get("propolis.tenant_dir")
    )
    config.add_request_method(_sysdb, "sysdb", reify=True)
    config.add_request_method(_db, "db", reify=True)
    config.add_request_method(_effective, "effective", reify=True)
    config.add_request_method(_lang, "lang", reify=True)
    config.include(".pages")
    config.add_tween("propolis.platform.web.api.body_limit_tween_factory")
    config.scan(".")
