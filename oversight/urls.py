from django.urls import path

from . import views, views_comebacks

app_name = "oversight"
urlpatterns = [
    # The public: report, follow the case, read the exposure list.
    path("report/", views.report, name="report"),
    path("report/done/", views.report_done, name="report_done"),
    path("track/", views.track, name="track"),
    path("exposures/", views.exposures, name="exposures"),
    path("exposures/<int:exposure_id>/", views.exposure, name="exposure"),
    path("exposures/<int:exposure_id>/withdraw/", views.exposure_withdraw, name="exposure_withdraw"),
    # Bureau staff: cases.
    path("complaints/", views.complaints, name="complaints"),
    path("complaints/<int:complaint_id>/", views.complaint_detail, name="complaint"),
    path(
        "complaints/<int:complaint_id>/attachments/<int:attachment_id>/",
        views.complaint_attachment,
        name="complaint_attachment",
    ),
    *[
        path(
            f"complaints/<int:complaint_id>/{action}/",
            getattr(views, f"complaint_{action}"),
            name=f"complaint_{action}",
        )
        for action in ("accept", "assign", "reject", "note", "attach", "sanction", "close")
    ],
    # 挂证: declarations (employers), insurance data and flags (bureau).
    path("reliances/", views.reliances, name="reliances"),
    path("reliances/<int:reliance_id>/end/", views.reliance_end, name="reliance_end"),
    path("guazheng/", views.guazheng_page, name="guazheng"),
    path("comebacks/", views_comebacks.comebacks_page, name="comebacks"),
    path("comebacks/scan/", views_comebacks.comebacks_scan, name="comebacks_scan"),
    path("comebacks/<int:finding_id>/", views_comebacks.comeback_action, name="comeback_action"),
    path("guazheng/scan/", views.guazheng_scan, name="guazheng_scan"),
    path("guazheng/template.xlsx", views.insurance_template, name="insurance_template"),
    path("guazheng/flags/<int:flag_id>/", views.flag_detail, name="flag"),
    path("guazheng/flags/<int:flag_id>/investigate/", views.flag_investigate, name="flag_investigate"),
    path("guazheng/flags/<int:flag_id>/dismiss/", views.flag_dismiss, name="flag_dismiss"),
    # Inspections and rectification.
    path("inspections/", views.inspections_page, name="inspections"),
    path("inspections/draw/", views.inspection_draw, name="inspection_draw"),
    path("inspections/<int:inspection_id>/", views.inspection_detail, name="inspection"),
    *[
        path(
            f"inspections/<int:inspection_id>/{action}/",
            getattr(views, f"inspection_{action}"),
            name=f"inspection_{action}",
        )
        for action in ("findings", "rectify", "escalate", "close")
    ],
    path(
        "rectifications/<int:rectification_id>/evidence/",
        views.rectification_evidence,
        name="rectification_evidence",
    ),
    path("rectifications/<int:rectification_id>/submit/", views.rectification_submit, name="rectification_submit"),
    path("rectifications/<int:rectification_id>/review/", views.rectification_review, name="rectification_review"),
    # Dashboards and the audit trail.
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<str:panel>.xlsx", views.dashboard_export, name="dashboard_export"),
    path("audit/", views.audit, name="audit"),
]
