"""The accounts pages' forms. They carry and render the fields; what is valid is
decided by the services (the same checks as the API), whose per-field messages
the views put back on the fields. CSRF is Pyramid's: every form posts the
session's ``csrf_token``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from wtforms import BooleanField, Form, HiddenField, PasswordField, StringField

_ = TranslationStringFactory("propolis")


class LabelledForm(Form):
    """Labels in the page's language (a form that only reads, such as a search,
    posts nothing and so carries no CSRF token)."""

    def __init__(self, request: Request, formdata: Any = None, **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.request = request
        for field in self:
            if field.label.text:
                field.label.text = request.localizer.translate(field.label.text)


class PageForm(LabelledForm):
    """A form that posts: the session's CSRF token, and errors from a service's
    ``fields``."""

    csrf_token = HiddenField()

    def __init__(self, request: Request, formdata: Any = None, **kwargs: Any) -> None:
        super().__init__(request, formdata, **kwargs)
        self.csrf_token.data = request.csrf_token

    def add_errors(self, fields: Mapping[str, list[Any]],
                   renamed: Mapping[str, str] | None = None) -> list[str]:
        """Puts each message under its field; returns those that fit no field."""
        left = []
        for name, messages in fields.items():
            target = getattr(self, (renamed or {}).get(name, name), None)
            texts = [self.request.translate(m) for m in messages]
            if target is None or name == "csrf_token":
                left.extend(texts)
            else:
                target.errors = list(target.errors) + texts
        return left

    def required(self, *names: str) -> bool:
        """Marks the empty fields among ``names``; True when none is empty."""
        ok = True
        for name in names:
            field = getattr(self, name)
            if not (field.data or "").strip():
                field.errors = [self.request.localizer.translate(_("Required"))]
                ok = False
        return ok


class GuardedForm(PageForm):
    """A form anyone may post that carries a password: the image captcha that
    guards it (always on registration and joining, after failures on login)."""

    password = PasswordField(_("Password"))
    captcha = StringField(_("Captcha"))
    captcha_id = HiddenField()


class LoginForm(GuardedForm):
    account = StringField(_("Enterprise account"))
    login = StringField(_("Phone or login name"))
    remember = BooleanField(_("Remember me for 30 days"))
    next = HiddenField()


class RegisterForm(GuardedForm):
    account = StringField(_("Enterprise account"))
    name = StringField(_("Enterprise name"))
    admin_name = StringField(_("Your name"))
    phone = StringField(_("Mobile phone"))


class JoinForm(GuardedForm):
    """The join page's: who is asking to join (the password twice)."""

    name = StringField(_("Your name"))
    phone = StringField(_("Mobile phone"))
    password_again = PasswordField(_("Password again"))


class PasswordForm(PageForm):
    old_password = PasswordField(_("Current password"))
    new_password = PasswordField(_("New password"))


class VerifyForm(PageForm):
    password = PasswordField(_("Password"))
    next = HiddenField()


class TokenForm(PageForm):
    label = StringField(_("What the token is for"))
    expires_in_days = StringField(_("Valid for (days, empty: no expiry)"))


class ResetForm(PageForm):
    login = StringField(_("Employee's phone or login name"))
    password = PasswordField(_("New password"))


class ActionForm(PageForm):
    """A button that posts one id (revoke this session, this token)."""

    id = HiddenField()
