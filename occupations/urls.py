from django.urls import path

from . import views

app_name = "occupations"
urlpatterns = [
    path("catalogue/", views.catalogue, name="catalogue"),
    path("occupations/", views.occupations, name="occupations"),
    path("occupations/<str:code>/", views.occupation_detail, name="occupation"),
    path("changes/", views.changes_page, name="changes"),
    path("changes/<int:change_id>/", views.change_page, name="change"),
]
