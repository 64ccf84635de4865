"""What the organisation's API and console pages, and the public join page, ask."""

from __future__ import annotations

from typing import Any

from zope.interface import Attribute, Interface


class IOrgService(Interface):
    """The organisation of the caller's enterprise: departments, employees, the
    defaults new users get, the employee import and the console's numbers.
    Changes are for its admins (the caller checks), go through the record service
    and are in the admin audit log; refusals are ``AppError``s naming the field."""

    records = Attribute("The record service the changes go through.")
    effective = Attribute("The enterprise's effective metadata.")

    def department_tree(*, include_disabled: bool):
        """The departments as a tree (``children``), with their heads."""

    def create_department(data: dict[str, Any]):
        """A new department (``name``, ``parent``)."""

    def update_department(id: str, data: dict[str, Any]):
        """Renames a department or changes its head."""

    def move_department(id: str, parent: Any):
        """Moves a department under ``parent`` (None: the top level)."""

    def disable_department(id: str):
        """Disables an empty department."""

    def enable_department(id: str):
        """Enables a disabled department."""

    def employees(*, q: str | None, department: str | None,
                  without_department: bool, status: str | None, offset: int,
                  limit: int):
        """``(rows, total)``: a page of employees ordered by name."""

    def colleagues():
        """The active employees (``id name phone``), for drop-downs."""

    def user_names(ids: list[str]):
        """``{id: name}`` of those employees."""

    def create_user(data: dict[str, Any]):
        """A new employee."""

    def update_user(id: str, data: dict[str, Any]):
        """Changes an employee."""

    def owned_counts(user_id: str):
        """How many records of each object the employee owns."""

    def disable_user(id: str, handover_to: Any):
        """Disables an employee, handing their records over."""

    def enable_user(id: str):
        """Enables a disabled employee."""

    def settings():
        """The defaults new users get (``default_roles``,
        ``default_department``)."""

    def put_settings(data: dict[str, Any]):
        """Changes those defaults; returns them."""

    def import_users(data: bytes, filename: str | None):
        """Imports employees from the filled-in template: the report."""

    def import_report(id: str):
        """The workbook of a refused import's problems."""

    def summary(now: Any):
        """The numbers of the admin console's home page."""


class IInvitationService(Interface):
    """Invitations to join the caller's enterprise and the join requests they
    bring (待审核), for its admins."""

    def create(data: dict[str, Any]):
        """A link invitation, or one for a ``phone`` or ``email``."""

    def listing(*, usable_only: bool):
        """The invitations, newest first."""

    def revoke(id: str):
        """Ends an invitation."""

    def requests(status: str | None):
        """The join requests (of a ``status``)."""

    def approve(id: str, data: dict[str, Any]):
        """Makes a join request's applicant an employee."""

    def reject(id: str, data: dict[str, Any]):
        """Refuses a join request (``reason``)."""


class IJoinService(Interface):
    """Joining an enterprise by an invitation's token, without a login: the token
    says which enterprise."""

    def info(token: Any):
        """What the join page shows: the enterprise, the department, until when
        the link works; 400 naming ``token`` for a bad one."""

    def file(data: dict[str, Any], ip: str | None):
        """Files a join request (``token name phone password``) for the
        admins."""
