"""Exam evidence pages; included into the "assessments" namespace under /assessments/."""

from django.urls import path

from . import views

urlpatterns = [
    path("plans/<int:plan_id>/evidence/<str:kind>/", views.session_evidence, name="evidence"),
    path("plans/<int:plan_id>/evidence/<str:kind>/add/", views.evidence_add, name="evidence_add"),
    path("evidence/<int:evidence_id>/download/", views.evidence_download, name="evidence_download"),
    path("evidence/missing/", views.evidence_missing, name="evidence_missing"),
]
