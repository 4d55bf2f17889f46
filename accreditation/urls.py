from django.urls import path

from . import views

app_name = "accreditation"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("mine/", views.my_organisations, name="mine"),
    path("organisations/<int:org_id>/", views.organisation, name="organisation"),
    path("organisations/<int:org_id>/seal/", views.organisation_seal, name="organisation_seal"),
    path("organisations/<int:org_id>/seal.png", views.organisation_seal_image, name="organisation_seal_image"),
    path("organisations/<int:org_id>/filings/new/", views.filing_new, name="filing_new"),
    path("organisations/<int:org_id>/people/", views.people_page, name="people"),
    path("organisations/<int:org_id>/training/", views.training_page, name="training"),
    path("filings/<int:filing_id>/", views.filing_detail, name="filing"),
    path("filings/<int:filing_id>/edit/", views.filing_edit, name="filing_edit"),
    path("filings/<int:filing_id>/attach/", views.filing_attach, name="filing_attach"),
    path(
        "filings/<int:filing_id>/attachments/<int:filing_attachment_id>/",
        views.filing_attachment,
        name="filing_attachment",
    ),
    path("filings/<int:filing_id>/submit/", views.filing_submit, name="filing_submit"),
    path("filings/<int:filing_id>/start-review/", views.filing_start_review, name="filing_start_review"),
    path("filings/<int:filing_id>/approve/", views.filing_approve, name="filing_approve"),
    path("filings/<int:filing_id>/return/", views.filing_return, name="filing_return"),
    path("filings/<int:filing_id>/reject/", views.filing_reject, name="filing_reject"),
    path("filings/<int:filing_id>/suspend/", views.filing_suspend, name="filing_suspend"),
    path("filings/<int:filing_id>/reinstate/", views.filing_reinstate, name="filing_reinstate"),
    path("filings/<int:filing_id>/revoke/", views.filing_revoke, name="filing_revoke"),
    path("review/", views.queue, name="queue"),
    path("supervisors/", views.people_page, name="supervisors"),
    path("appointments/<int:appointment_id>/withdraw/", views.appointment_withdraw, name="appointment_withdraw"),
    path("appointments/<int:appointment_id>/evidence/", views.appointment_evidence, name="appointment_evidence"),
    path("training-template.xlsx", views.training_template, name="training_template"),
]

public_urlpatterns = [
    path("", views.directory_page, name="directory"),
    path("<int:org_id>/", views.directory_detail, name="directory_detail"),
]
