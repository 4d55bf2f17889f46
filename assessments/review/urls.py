"""Result-review pages; included into the "assessments" namespace under /assessments/."""

from django.urls import path

from . import views

urlpatterns = [
    path("plans/<int:plan_id>/result-review/", views.plan_review, name="result_review"),
    path("result-reviews/", views.review_queue, name="result_reviews"),
    path("result-reviews/<int:review_id>/decide/", views.review_decide, name="result_review_decide"),
]
