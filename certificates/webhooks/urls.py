from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("", views.subscriptions, name="subscriptions"),
    path("<int:subscription_id>/", views.detail, name="detail"),
    path("<int:subscription_id>/<str:name>/", views.action, name="action"),
    path("deliveries/<int:delivery_id>/replay/", views.replay, name="replay"),
]
