"""The organisation pages' forms. Like the accounts pages' forms they carry and
render the fields; the organisation services decide what is valid and their
per-field messages come back on the fields. The choices of the drop-downs (the
departments, the colleagues, the roles) are the enterprise's own, set by the
views."""

from __future__ import annotations

from pyramid.i18n import TranslationStringFactory
from wtforms import (
    FileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from propolis.platform.accounts.forms import LabelledForm, PageForm

_ = TranslationStringFactory("propolis")


class Checkboxes(SelectMultipleField):
    """Several choices, one checkbox each (a fieldset on the page)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SubDepartmentForm(PageForm):
    name = StringField(_("Department name"))


class NewDepartmentForm(SubDepartmentForm):
    parent = SelectField(_("Parent department"), choices=[])


class DepartmentForm(SubDepartmentForm):
    head = SelectField(_("Department head"), choices=[])


class MoveForm(PageForm):
    parent = SelectField(_("New parent department"), choices=[])


class EmployeeSearchForm(LabelledForm):
    q = StringField(_("Name or phone"))
    department = SelectField(_("Department"), choices=[])
    status = SelectField(_("Status"), choices=[])


class EmployeeForm(PageForm):
    name = StringField(_("Name"))
    position = StringField(_("Position"))
    main_department = SelectField(_("Main department"), choices=[])
    departments = Checkboxes(_("Other departments"), choices=[])
    superior = SelectField(_("Direct superior"), choices=[])
    roles = Checkboxes(_("Roles"), choices=[])


class HandoverForm(PageForm):
    handover_to = SelectField(_("Hand their records over to"), choices=[])


class InviteForm(PageForm):
    phone = StringField(_("Mobile phone (optional)"))
    email = StringField(_("Email (optional)"))
    department = SelectField(_("Department"), choices=[])
    expires_in_days = StringField(_("Valid for (days)"))


class JoinSettingsForm(PageForm):
    default_department = SelectField(_("Default department"), choices=[])
    default_roles = Checkboxes(_("Default roles"), choices=[])


class ApproveForm(PageForm):
    position = StringField(_("Position"))
    main_department = SelectField(_("Department"), choices=[])


class RejectForm(PageForm):
    reason = TextAreaField(_("Reason for rejecting"))


class ImportForm(PageForm):
    file = FileField(_("Filled-in template (XLSX)"))


class EnterpriseSettingsForm(PageForm):
    time_zone = SelectField(_("Time zone"), choices=[])
