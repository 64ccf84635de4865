"""What the login, registration, account and console pages and the accounts API
ask."""

from __future__ import annotations

from typing import Any

from zope.interface import Interface


class IAccountService(Interface):
    """Logging in and out, registering an enterprise, captchas and the back-off
    behind them, the caller's own password, sessions and personal API tokens, and
    an enterprise admin's view of everyone's (the caller checks that they are
    the admin). Refusals are ``AppError``s (``Throttled`` with ``retry_after``)."""

    def new_captcha():
        """A new captcha: ``id`` and ``image`` (a data URL)."""

    def solve_captcha(captcha_id: str | None, answer: str | None):
        """Whether the captcha's answer is right (it is used up either way)."""

    def throttle_state(account: str, login: str):
        """Whether logging in as ``login`` of ``account`` from this client needs a
        captcha now (``captcha_required``) or must wait (``retry_after``)."""

    def login(*, account: str, login: str, password: str, captcha_id: str | None,
              captcha_answer: str | None, kind: str, lifetime: Any):
        """Checks a login and issues a token (``LoggedIn``)."""

    def logout(token: str):
        """Ends the session of ``token``."""

    def register(data: dict[str, Any]):
        """A new enterprise with its first admin (``account name admin_name phone
        password``)."""

    def confirm_password(password: str):
        """Whether the caller's password is ``password`` (the console's step-up),
        with the back-off of logging in."""

    def change_password(old: Any, new: Any):
        """Changes the caller's password; their other login sessions end (how
        many is returned)."""

    def reset_password(user_id: str, new: Any):
        """An admin sets another user's password; every token of theirs ends."""

    def find_user(login: str):
        """The id of the live user whose phone or login name is ``login``, or
        None."""

    def user_exists(user_id: str):
        """Whether the enterprise has that user."""

    def sessions(user_id: str):
        """The user's login sessions (the caller's own marked ``current``)."""

    def personal_tokens(user_id: str):
        """The user's personal API tokens."""

    def create_personal_token(body: dict[str, Any]):
        """``(issued, label)``: a new personal API token of the caller."""

    def end_session(public_id: str, user_id: str):
        """Ends one of the user's login sessions; whether there was one."""

    def revoke_personal_token(public_id: str, user_id: str):
        """Revokes one of the user's personal tokens; whether there was one."""

    def end_all(user_id: str):
        """Ends every token of the user; how many."""

    def revoke(public_id: str):
        """An admin ends anyone's session or token; its ``(user, kind)``, or
        None when there is none."""

    def revoke_user(user_id: str):
        """An admin ends every token of a user: how many (None: no such
        user)."""

    def security_overview():
        """Each user's sessions, devices and personal tokens, and the recent
        abnormal logins."""

    def audit_entries(limit: int, before_id: int | None):
        """``(entries, names)``: a page of the admin audit log, newest first,
        and the names of the users in it."""

    def audit(action: str, target: str | None, details: dict[str, Any]):
        """Adds an entry to the admin audit log, as the caller."""
