"""The clinic's settings and booking policy."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from clinic.admin.forms import SettingsForm
from clinic.booking import admin_services as admin
from clinic.db import get_session
from clinic.web import actor, commit, settings


def clinic_settings() -> Response | str:
    # The current values (stored row over configuration) fill the form.
    form = SettingsForm(obj=settings())
    if form.validate_on_submit():
        db = get_session()
        changed = admin.save_clinic_settings(db, actor(), **form.values())
        commit(db)
        flash("The settings are saved." if changed else "Nothing was changed.",
              "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form)
