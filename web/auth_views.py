"""Sign-in, sign-out, password change and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from services import sign_in
from services.errors import Invalid
from web.db import db_session
from web.i18n import LANGUAGES

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(10, 200)])
    confirm = PasswordField(
        "Repeat the new password", validators=[DataRequired(), EqualTo("new_password")]
    )


class LanguageForm(FlaskForm):
    language = SelectField("Language", choices=[SelectChoice(code, code) for code in LANGUAGES])


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sign_in.sign_in(db_session(), form.email.data, form.password.data)
        except sign_in.AccountLocked as exc:
            form.email.errors.append(
                _(
                    "Too many failed sign-ins: this account is locked until %(time)s. "
                    "Try again then, or ask an administrator.",
                    time=format_datetime(exc.until, "short"),
                )
            )
        except sign_in.SignInRefused:
            form.password.errors.append(_("Wrong email or password."))
        else:
            login_user(user)
            session.pop("lang", None)
            return redirect(_safe_next(request.args.get("next")) or url_for("home"))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            sign_in.change_password(
                db_session(), current_user, form.current_password.data, form.new_password.data
            )
        except Invalid as exc:
            for name, messages in exc.fields.items():
                target = getattr(form, name, form.new_password)
                target.errors.extend(_(m) for m in messages)
        else:
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home"))
    return render_template("auth/password.html", form=form), 200 if not form.errors else 400


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.language.data
        if current_user.is_authenticated:
            sign_in.set_language(db_session(), current_user, form.language.data)
    return redirect(_safe_next(request.form.get("next")) or url_for("home"))
