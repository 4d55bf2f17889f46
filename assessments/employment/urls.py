"""Employment pages; included into the "assessments" namespace under /assessments/."""

from django.urls import path

from . import views

urlpatterns = [
    path("employers/<int:organisation_id>/employment-proofs/", views.proof_add, name="employment_proof_add"),
    path(
        "registrations/<int:registration_id>/employment-review/",
        views.employment_review,
        name="employment_review",
    ),
]
