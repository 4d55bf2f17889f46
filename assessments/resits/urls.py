"""Re-sit pages; included into the "assessments" namespace under /assessments/."""

from django.urls import path

from . import views

urlpatterns = [path("registrations/<int:registration_id>/resit/", views.resit_page, name="resit")]
