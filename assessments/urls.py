from django.urls import path

from . import urls_panels, urls_scoring, views, views_schools
from .employment import urls as urls_employment
from .evidence import urls as evidence_urls
from .examday import urls as examday_urls
from .integrity import urls as urls_integrity
from .resits import urls as resits_urls
from .review import urls as review_urls

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
    path("classes/", views_schools.class_list, name="classes"),
    path("classes/<int:class_id>/", views_schools.class_detail, name="class"),
    path("classes-template.xlsx", views_schools.class_template, name="class_template"),
]

urlpatterns += (
    urls_panels.urlpatterns
    + urls_scoring.urlpatterns
    + urls_integrity.urlpatterns
    + urls_employment.urlpatterns
    + examday_urls.urlpatterns
    + resits_urls.urlpatterns
    + review_urls.urlpatterns
    + evidence_urls.urlpatterns
)
