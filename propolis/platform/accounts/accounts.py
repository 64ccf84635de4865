"""The account service (``IAccountService``): what the login, registration,
account and console pages and the accounts API do, for one request's caller (or
for whoever is logging in), on top of the functions of ``services`` and the
tokens of ``auth.tokens``.

Logging in, captchas and the back-off work in transactions of their own on the
system database (see ``services``); the rest in the request's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.request import Request
from sqlalchemy import or_, select
from zope.interface import implementer

from propolis.platform.accounts import services, throttle
from propolis.platform.accounts.captcha import NewCaptcha
from propolis.platform.accounts.interfaces import IAccountService
from propolis.platform.accounts.services import Client, LoggedIn, client_of
from propolis.platform.audit import entries, record_event
from propolis.platform.auth import tokens
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.tenancy.services import CreatedEnterprise


@implementer(IAccountService)
class AccountService:
    """The accounts as ``request`` sees them: its client, its clock, its caller
    (read when a method needs them: logging in needs no caller)."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.database = request.registry.database
        self.secret: str = request.registry.settings["propolis.secret"]

    @property
    def client(self) -> Client:
        return client_of(self.request)

    @property
    def now(self) -> dt.datetime:
        now: dt.datetime = self.request.now
        return now

    @property
    def identity(self) -> tokens.Identity:
        identity: tokens.Identity = self.request.identity
        return identity

    def _users(self) -> Any:
        return self.request.effective.tables.main["user"]

    # -- logging in -------------------------------------------------------------

    def new_captcha(self) -> NewCaptcha:
        return services.new_captcha(self.database, self.secret, self.now)

    def solve_captcha(self, captcha_id: str | None, answer: str | None) -> bool:
        return services.solve_captcha(self.database, self.secret, captcha_id, answer,
                                      self.now)

    def throttle_state(self, account: str, login: str,
                       client: Client | None = None) -> throttle.State:
        return services.throttle_state(self.database,
                                       throttle.login_subject(account, login),
                                       client or self.client, self.now)

    def login(self, *, account: str, login: str, password: str,
              captcha_id: str | None, captcha_answer: str | None,
              kind: str = tokens.SESSION,
              lifetime: dt.timedelta | None = tokens.SESSION_LIFETIME,
              client: Client | None = None) -> LoggedIn:
        return services.login(
            self.database, self.secret, account=account, login=login,
            password=password, client=client or self.client, now=self.now,
            captcha_id=captcha_id, captcha_answer=captcha_answer, kind=kind,
            lifetime=lifetime)

    def logout(self, token_hash: str) -> None:
        tokens.revoke_token(self.request.sysdb, token_hash)

    def register(self, data: dict[str, Any]) -> CreatedEnterprise:
        return services.register(self.database, data)

    # -- passwords ----------------------------------------------------------------

    def confirm_password(self, password: str) -> bool:
        return services.confirm_password(self.database, self.identity, password,
                                         self.now)

    def change_password(self, old: Any, new: Any) -> int:
        request = self.request
        return services.change_password(
            request.db, request.sysdb, request.effective, self.identity, old, new,
            self.now, database=self.database,
            records=request.find_service(IRecordService))

    def reset_password(self, user_id: str, new: Any) -> int:
        request = self.request
        return services.reset_password(request.db, request.sysdb, request.effective,
                                       self.identity, user_id, new,
                                       request.client_ip,
                                       request.find_service(IRecordService))

    def find_user(self, login: str) -> str | None:
        users = self._users()
        row = self.request.db.execute(select(users.c.id).where(
            or_(users.c.phone == login, users.c.login_name == login),
            users.c.deleted_at.is_(None))).first()
        return None if row is None else str(row.id)

    def user_exists(self, user_id: str) -> bool:
        users = self._users()
        return self.request.db.execute(
            select(users.c.id).where(users.c.id == user_id)).first() is not None

    # -- sessions and personal tokens ----------------------------------------------

    def _tokens(self, user_id: str, kinds: Any) -> list[dict[str, Any]]:
        return tokens.list_tokens(self.request.sysdb, self.identity.enterprise_id,
                                  user_ids=[user_id], kinds=kinds, now=self.now)

    def sessions(self, user_id: str) -> list[dict[str, Any]]:
        current = self.identity.token_hash
        return [services.token_json(item, current)
                for item in self._tokens(user_id, tokens.LOGIN_KINDS)]

    def personal_tokens(self, user_id: str) -> list[dict[str, Any]]:
        return [services.token_json(item)
                for item in self._tokens(user_id, [tokens.PERSONAL])]

    def create_personal_token(self, body: dict[str, Any]
                              ) -> tuple[tokens.Issued, str]:
        return services.create_personal_token(self.request.sysdb, self.identity,
                                              body, self.client, self.now)

    def end_session(self, public_id: str, user_id: str) -> bool:
        return tokens.revoke_by_id(self.request.sysdb, self.identity.enterprise_id,
                                   public_id, user_id=user_id,
                                   kinds=tokens.LOGIN_KINDS)

    def revoke_personal_token(self, public_id: str, user_id: str) -> bool:
        return tokens.revoke_by_id(self.request.sysdb, self.identity.enterprise_id,
                                   public_id, user_id=user_id,
                                   kinds=[tokens.PERSONAL])

    def end_all(self, user_id: str) -> int:
        return tokens.revoke_user_tokens(self.request.sysdb,
                                         self.identity.enterprise_id, user_id)

    # -- the admin's ----------------------------------------------------------------

    def revoke(self, public_id: str) -> tuple[str, str] | None:
        sysdb, enterprise_id = self.request.sysdb, self.identity.enterprise_id
        owner = tokens.token_owner(sysdb, enterprise_id, public_id)
        if owner is not None:
            tokens.revoke_by_id(sysdb, enterprise_id, public_id)
            self.audit("session.revoke", f"user:{owner[0]}",
                       {"session": public_id, "kind": owner[1]})
        return owner

    def revoke_user(self, user_id: str) -> int | None:
        """Ends every token of a user of the enterprise (None: there is no such
        user), audited."""
        if not self.user_exists(user_id):
            return None
        count = self.end_all(user_id)
        self.audit("session.revoke_all", f"user:{user_id}", {"revoked_tokens": count})
        return count

    def security_overview(self) -> dict[str, Any]:
        """Each user's sessions, devices and personal tokens with their flags, and
        the recent abnormal logins (the admin's security page and API)."""
        identity, sysdb = self.identity, self.request.sysdb
        found = tokens.list_tokens(sysdb, identity.enterprise_id, now=self.now)
        events = services.login_events(sysdb, identity.enterprise_id,
                                       flagged_only=True, limit=200)
        ids = {item["user_id"] for item in found} | {e["user_id"] for e in events}
        users = self._users()
        names = {row.id: {"name": row.name, "phone": row.phone, "status": row.status}
                 for row in self.request.db.execute(
                     select(users.c.id, users.c.name, users.c.phone, users.c.status)
                     .where(users.c.id.in_(sorted(ids))))} if ids else {}
        by_user: dict[str, dict[str, Any]] = {}
        for item in found:
            entry = by_user.setdefault(item["user_id"], {
                "id": item["user_id"], **names.get(item["user_id"], {}),
                "sessions": []})
            entry["sessions"].append(services.token_json(item, identity.token_hash))
        for event in events:
            event["user"] = names.get(event["user_id"], {}).get("name")
        ordered = sorted(by_user.values(), key=lambda u: (u.get("name") or "", u["id"]))
        return {"users": ordered, "abnormal_logins": events}

    def audit_entries(self, limit: int, before_id: int | None
                      ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        conn = self.request.db.connection()
        page = entries(conn, limit=limit, before_id=before_id)
        actors = {e["actor_id"] for e in page if e["actor_id"]}
        users = self._users()
        names = dict(conn.execute(select(users.c.id, users.c.name).where(
            users.c.id.in_(sorted(actors)))).all()) if actors else {}
        return page, names

    def audit(self, action: str, target: str | None, details: dict[str, Any]
              ) -> None:
        record_event(self.request.db.connection(), actor_id=self.identity.user_id,
                     action=action, target=target, details=details,
                     ip=self.request.client_ip)
