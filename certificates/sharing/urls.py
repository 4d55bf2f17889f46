from django.urls import path

from . import views

app_name = "sharing"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("<int:copy_id>/pdf/", views.copy_pdf, name="pdf"),
    path("<int:copy_id>/withdraw/", views.withdraw, name="withdraw"),
]
