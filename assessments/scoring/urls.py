"""Scoring, publicity and results pages. Included under /assessments/ in the "assessments" namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("scoring/mine/", views.my_sessions, name="score_mine"),
    path("plans/<int:plan_id>/scores/", views.score_overview, name="score_overview"),
    path("plans/<int:plan_id>/scores/results/", views.results_plan, name="results_plan"),
    path("plans/<int:plan_id>/scores/<str:kind>/", views.score_sheet, name="score_sheet"),
    path("plans/<int:plan_id>/scores/<str:kind>/sheet.xlsx", views.score_sheet_workbook, name="score_sheet_xlsx"),
    path("plans/<int:plan_id>/scores/<str:kind>/import/", views.score_import, name="score_import"),
    path("plans/<int:plan_id>/scores/<str:kind>/lock/", views.score_lock, name="score_lock"),
    path("plans/<int:plan_id>/results/", views.publicity_manage, name="publicity_manage"),
    path("plans/<int:plan_id>/results/open/", views.publicity_open, name="publicity_open"),
    path("plans/<int:plan_id>/results/finalise/", views.publicity_finalise, name="publicity_finalise"),
    path("scoring/results/<int:result_id>/correction/", views.correction_request, name="score_correction_request"),
    path("scoring/corrections/<int:correction_id>/decide/", views.correction_decide, name="score_correction_decide"),
    path("publicity/<int:plan_id>/", views.publicity_page, name="publicity_page"),
    path("publicity/<int:plan_id>/objection/", views.publicity_objection, name="publicity_objection"),
    path("publicity/objections/<int:objection_id>/answer/", views.publicity_answer, name="publicity_answer"),
]
