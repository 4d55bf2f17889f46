from django.urls import path

from . import views
from .employment import urls as urls_employment
from .evidence import urls as evidence_urls
from .examday import urls as examday_urls
from .integrity import urls as urls_integrity
from .panels import urls as panel_urls
from .resits import urls as resits_urls
from .review import urls as review_urls
from .schools import views as school_views
from .scoring import urls as scoring_urls

app_name = "assessments"
urlpatterns = [
    path("plans/", views.plan_list, name="plans"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("plans/<int:plan_id>/register/", views.register, name="register"),
    path("my/", views.my_registrations, name="my_registrations"),
    path("my/choices/<int:choice_id>/", views.my_choice, name="my_choice"),
    path("registrations/<int:registration_id>/", views.registration_detail, name="registration"),
    path("registrations/<int:registration_id>/review/", views.registration_review, name="registration_review"),
    path("registrations/<int:registration_id>/photo/", views.registration_photo, name="registration_photo"),
    path("manage/", views.manage, name="manage"),
    path("manage/new/<int:org_id>/", views.plan_new, name="plan_new"),
    path("manage/<int:plan_id>/", views.manage_plan, name="manage_plan"),
    path("manage/<int:plan_id>/cancellation/", views.plan_cancellation, name="plan_cancellation"),
    path("registrations-template.xlsx", views.bulk_template, name="bulk_template"),
    path("classes/", school_views.class_list, name="classes"),
    path("classes/<int:class_id>/", school_views.class_detail, name="class"),
    path("classes-template.xlsx", school_views.class_template, name="class_template"),
]

urlpatterns += (
    panel_urls.urlpatterns
    + scoring_urls.urlpatterns
    + urls_integrity.urlpatterns
    + urls_employment.urlpatterns
    + examday_urls.urlpatterns
    + resits_urls.urlpatterns
    + review_urls.urlpatterns
    + evidence_urls.urlpatterns
)
