from django.urls import path

from . import views

app_name = "national"
urlpatterns = [
    path("", views.records, name="records"),
    path("<int:record_id>/resend/", views.resend, name="resend"),
]
