from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.db import transaction
from django.template import loader

from .models import User


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the mail queued after commit (core.tasks) instead of sent inside the request."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        from core.tasks import send_mail_task

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        transaction.on_commit(lambda: send_mail_task.delay(subject, body, [to_email]))
