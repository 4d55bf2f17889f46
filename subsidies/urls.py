from django.urls import path

from . import views

app_name = "subsidies"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("certificates/<int:certificate_id>/claim/", views.claim_new, name="claim_new"),
    path("claims/<int:claim_id>/", views.claim_detail, name="claim"),
    path("claims/<int:claim_id>/review/", views.claim_review, name="claim_review"),
    path("claims/<int:claim_id>/second-review/", views.claim_second_review, name="claim_second_review"),
    path("claims/<int:claim_id>/approve/", views.claim_approve, name="claim_approve"),
    path("claims/<int:claim_id>/reject/", views.claim_reject, name="claim_reject"),
    path("claims/<int:claim_id>/withdraw/", views.claim_withdraw, name="claim_withdraw"),
    path("claims/<int:claim_id>/account/", views.claim_account, name="claim_account"),
    path("objections/<int:objection_id>/resolve/", views.objection_resolve, name="objection_resolve"),
    path("employer/", views.employer, name="employer"),
    path("employer/<int:org_id>/", views.employer, name="employer_org"),
    path("bulk-template.xlsx", views.bulk_template, name="bulk_template"),
    path("queue/", views.queue, name="queue"),
    path("records/", views.records_page, name="records"),
    path("records/insurance-template.xlsx", views.insurance_template, name="insurance_template"),
    path("records/training-template.xlsx", views.training_template, name="training_template"),
    path("records/military-template.xlsx", views.military_template, name="military_template"),
    path("records/other-region-template.xlsx", views.other_region_template, name="other_region_template"),
    path("batches/", views.batches, name="batches"),
    path("batches/<int:batch_id>/", views.batch_detail, name="batch"),
    path("batches/<int:batch_id>/bank.xlsx", views.bank_file, name="bank_file"),
    path("batches/<int:batch_id>/bank-return/", views.bank_return, name="bank_return"),
    path("bank-return-template.xlsx", views.bank_return_template, name="bank_return_template"),
    path("batches/<int:batch_id>/claims/<int:claim_id>/<str:result>/", views.payment_result, name="payment_result"),
    path("statistics/", views.statistics, name="statistics"),
    path("statistics/cities.xlsx", views.statistics_export, name="statistics_export"),
    path("publicity/", views.publicity_page, name="publicity"),
    path("publicity/<int:claim_id>/object/", views.objection_raise, name="objection_raise"),
    path("policies/", views.policies_page, name="policies"),
]
