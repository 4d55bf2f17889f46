from django.urls import path

from . import views

app_name = "certificates"
urlpatterns = [
    path("", views.listing, name="list"),
    path("mine/", views.mine, name="mine"),
    path("careers/", views.careers, name="careers"),
    path("<int:certificate_id>/", views.detail, name="detail"),
    path("<int:certificate_id>/pdf/", views.pdf, name="pdf"),
    path("plans/<int:plan_id>/issue/", views.issue_page, name="issue"),
    path("plans/<int:plan_id>/issue/start/", views.issue_start, name="issue_start"),
    path("plans/<int:plan_id>/revoke/", views.revoke_plan, name="revoke_plan"),
]
