"""Documents of offers and projects in the staff workspace: attach, show or hide on the public
page, read again, remove, download (internal ones too)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models import Offer, Project
from services import catalog
from services.documents import store
from services.errors import NotFound
from web import documents
from web.db import db_session, settings
from web.staff import common
from web.staff.blueprint import bp
from web.staff.forms import ActionForm, DocumentForm
from web.staff.item_views import offer_page, project_page


def _document(document_id: int):
    try:
        return store.get(db_session(), document_id)
    except NotFound:
        abort(404)


def _owner_page(document) -> str:
    if document.offer_id:
        return url_for("staff.offer", offer_id=document.offer_id)
    return url_for("staff.project", project_id=document.project_id)


def _back(default: str):
    target = request.form.get("next")
    return redirect(common.safe_next(target, None) if target else default)


def _upload(model, item_id: int, render):
    try:
        owner = catalog.get(db_session(), model, item_id)
    except NotFound:
        abort(404)
    form = DocumentForm()
    if not form.validate_on_submit():
        return render(owner, document_form=form, status=400)
    upload = form.file.data
    try:
        document = store.attach(
            db_session(),
            settings(),
            owner,
            upload.filename,
            upload.stream,
            public=bool(form.public.data),
            user_id=current_user.id,
        )
    except store.DocumentRefused as exc:
        form.file.errors = [documents.refusal(exc)]
        return render(owner, document_form=form, status=exc.status)
    flash(_("“%(name)s” is attached; its text is being read.", name=document.filename), "success")
    return _back(_owner_page(document))


@bp.post("/offers/<int:offer_id>/documents")
def upload_offer_document(offer_id: int):
    return _upload(Offer, offer_id, offer_page)


@bp.post("/projects/<int:project_id>/documents")
def upload_project_document(project_id: int):
    return _upload(Project, project_id, project_page)


@bp.get("/documents/<int:document_id>")
def download_document(document_id: int):
    return documents.send(_document(document_id))


@bp.post("/documents/<int:document_id>/visibility")
def document_visibility(document_id: int):
    document = _document(document_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    public = request.form.get("public") == "1"
    store.set_public(db_session(), document, public, current_user.id)
    if public:
        flash(_("“%(name)s” is shown on the public page.", name=document.filename), "success")
    else:
        flash(_("“%(name)s” is for staff only.", name=document.filename), "success")
    return _back(_owner_page(document))


@bp.post("/documents/<int:document_id>/retry")
def retry_document(document_id: int):
    document = _document(document_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    store.retry(db_session(), document)
    flash(_("Its text is being read again."), "success")
    return _back(_owner_page(document))


@bp.post("/documents/<int:document_id>/remove")
def remove_document(document_id: int):
    document = _document(document_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    back = _owner_page(document)
    name = document.filename
    store.remove(db_session(), settings(), document, current_user.id)
    flash(_("“%(name)s” was removed.", name=name), "success")
    return _back(back)
