"""Integrity pages; included into the "assessments" namespace under /assessments/."""

from django.urls import path

from . import views

urlpatterns = [
    path("plans/<int:plan_id>/integrity/exceptions/", views.exception_grant, name="integrity_exception_grant"),
    path(
        "integrity/exceptions/<int:exception_id>/revoke/",
        views.exception_revoke,
        name="integrity_exception_revoke",
    ),
]
