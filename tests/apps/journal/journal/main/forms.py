"""Forms for writing entries and editing a profile."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from journal.models import MOODS


class EntryForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=140)])
    body = TextAreaField(_l("What happened today?"), validators=[DataRequired(), Length(max=20000)])
    mood = SelectField(_l("Mood"), choices=[SelectChoice("", "-")] + [SelectChoice(m) for m in MOODS], validators=[Optional()])
    submit = SubmitField(_l("Save entry"))


class EditProfileForm(FlaskForm):
    about_me = TextAreaField(_l("About me"), validators=[Length(min=0, max=280)])
    submit = SubmitField(_l("Save"))


class EmptyForm(FlaskForm):
    """A CSRF-protected form with only a button (deleting an entry)."""

    submit = SubmitField(_l("Submit"))
