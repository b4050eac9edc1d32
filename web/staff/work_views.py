"""Owners and notes threads on projects, matches and alliances, the match page, and "my work"
(/staff/mine) with the person's calendar link."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models import Alliance, Match, User
from services import audit, clock
from services.db import fetch
from services.errors import DomainError, Forbidden, NotFound
from services.work import calendars, mine, notes, owners
from web.db import db_session
from web.staff import common
from web.staff.blueprint import bp
from web.staff.forms import ActionForm, NoteForm, OwnerForm

PAGES = {"project": "staff.project", "match": "staff.match", "alliance": "staff.alliance"}


def _page_of(kind: str, item_id: int) -> str:
    return url_for(PAGES[kind], **{f"{kind}_id": item_id})


def context(kind: str, item) -> dict:
    """What a page with an owner and a notes thread shows for `item` (a `kind`)."""
    people = owners.staff(db_session())
    owner_form = OwnerForm(data={"owner_id": item.owner_id or 0})
    owner_form.owner_id.choices = owner_choices(people)
    return {
        "handles": [notes.handle_of(p) for p in people if p.id != current_user.id],
        "work_kind": kind,
        "work_item": item,
        "owner_form": owner_form,
        "notes": notes.thread(db_session(), kind, item.id),
        "note_form": NoteForm(),
        "note_now": clock.now(),
        "note_editable": notes.editable,
    }


def owner_choices(people) -> list[tuple[int, str]]:
    return [(0, _("Nobody"))] + [(p.id, p.name or p.email) for p in people]


@bp.post("/owners/<kind>/<int:item_id>")
def assign_owner(kind: str, item_id: int):
    if kind not in owners.OWNED:
        abort(404)
    form = OwnerForm()
    form.owner_id.choices = owner_choices(owners.staff(db_session()))
    back = common.safe_next(form.next.data) if form.next.data else None
    if not form.validate_on_submit():
        flash(_("Choose an active staff member."), "error")
        return redirect(back or _page_of(kind, item_id))
    try:
        owners.assign(db_session(), kind, item_id, form.owner_id.data or None, current_user.id)
    except NotFound:
        abort(404)
    except DomainError:
        flash(_("Choose an active staff member."), "error")
    else:
        flash(_("The owner was saved."), "success")
    return redirect(back or _page_of(kind, item_id))


@bp.post("/notes/<kind>/<int:item_id>")
def add_note(kind: str, item_id: int):
    if kind not in owners.OWNED:
        abort(404)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(_("The note could not be read. Try again."), "error")
        return redirect(_page_of(kind, item_id))
    try:
        note = notes.add(db_session(), kind, item_id, current_user.id, form.body.data)
    except NotFound:
        abort(404)
    except DomainError:
        flash(_("Write the note (at most 5,000 characters)."), "error")
        return redirect(_page_of(kind, item_id) + "#notes")
    _flash_mentioned(note)
    return redirect(_page_of(kind, item_id) + f"#note-{note.id}")


def _flash_mentioned(note) -> None:
    """Tell the author whom the note's mentions reach, so a mistyped handle shows."""
    people = notes.mentioned(db_session(), note.body, note.author_id)
    if people:
        names = ", ".join(p.name or p.email for p in people)
        flash(_("Mentioned by email: %(names)s.", names=names), "success")


@bp.post("/notes/<int:note_id>/edit")
def edit_note(note_id: int):
    form = NoteForm()
    try:
        note = notes.get(db_session(), note_id)
    except NotFound:
        abort(404)
    page = _page_of(str(note.subject_type), note.subject_id)
    if not form.validate_on_submit():
        flash(_("The note could not be read. Try again."), "error")
        return redirect(page)
    try:
        notes.edit(db_session(), note_id, current_user.id, form.body.data)
    except Forbidden:
        abort(403)
    except DomainError:
        flash(
            _("The note was not changed: notes can be edited by their author for 15 minutes."),
            "error",
        )
    else:
        _flash_mentioned(note)
    return redirect(page + f"#note-{note_id}")


@bp.get("/matches/<int:match_id>")
def match(match_id: int):
    session = db_session()
    try:
        item = fetch(session, Match, match_id, "match")
    except NotFound:
        abort(404)
    alliance = session.query(Alliance).filter_by(match_id=item.id).one_or_none()
    return render_template(
        "staff/match.html",
        match=item,
        alliance=alliance,
        today=common.today(),
        events=audit.trail(session, "match", [item.id], limit=100),
        **context("match", item),
    )


@bp.get("/mine")
def mine_page():
    today = common.today()
    work = mine.of(db_session(), current_user.id, today)
    token = calendars.token_for(common.settings().secret_key, current_user)
    calendar_url = url_for("calendars.feed", token=token, _external=True) if token else None
    return render_template(
        "staff/mine.html",
        work=work,
        today=today,
        calendar_url=calendar_url,
        action_form=ActionForm(),
    )


@bp.post("/mine/calendar/<any(renew, revoke):action>")
def calendar_link(action: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    user = db_session().get(User, current_user.id)
    if action == "renew":
        calendars.renew(db_session(), user)
        flash(_("Your calendar has a new address; the previous one no longer works."), "success")
    else:
        calendars.revoke(db_session(), user)
        flash(_("Your calendar address was turned off."), "success")
    return redirect(url_for("staff.mine_page") + "#calendar")
