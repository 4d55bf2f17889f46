"""Exam-day pages; included into the "assessments" namespace under /assessments/."""

from django.urls import path

from . import views

urlpatterns = [
    path("plans/<int:plan_id>/tickets/", views.tickets_manage, name="tickets"),
    path("plans/<int:plan_id>/tickets/<int:registration_id>/reissue/", views.ticket_reissue, name="ticket_reissue"),
    path("registrations/<int:registration_id>/ticket/", views.ticket_page, name="ticket"),
    path("registrations/<int:registration_id>/ticket.pdf", views.ticket_pdf, name="ticket_pdf"),
    path("checkin/", views.checkin_mine, name="checkin_mine"),
    path("plans/<int:plan_id>/checkin/<str:kind>/", views.checkin_page, name="checkin"),
]
