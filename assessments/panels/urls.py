"""Panel and supervision pages; included into the "assessments" namespace under /assessments/."""

from django.urls import path

from . import views

urlpatterns = [
    path("plans/<int:plan_id>/panel/", views.panel_page, name="panel_page"),
    path("plans/<int:plan_id>/panel/<str:kind>/assign/", views.panel_assign, name="panel_assign"),
    path(
        "plans/<int:plan_id>/panel/<str:kind>/<int:appointment_id>/remove/",
        views.panel_remove,
        name="panel_remove",
    ),
    path("plans/<int:plan_id>/supervisor/", views.supervision_assign, name="supervision_assign"),
    path("supervision/", views.supervision_mine, name="supervision_mine"),
    path("supervision/plans/<int:plan_id>/report/", views.supervision_report, name="supervision_report"),
    path("supervision/relationships/", views.supervision_relationships, name="supervision_relationships"),
]
