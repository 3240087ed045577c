from django.urls import path

from compliance import views

urlpatterns = [
    path("", views.decision_list, name="decision_list"),
    path("decisions.csv", views.decision_export, name="decision_export"),
    path("decisions/<int:decision_id>/", views.decision_detail, name="decision_detail"),
    path("policy/", views.policy_detail, name="policy_detail"),
    path("policy/edit/", views.policy_edit, name="policy_edit"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/<int:complaint_id>/", views.complaint_detail, name="complaint_detail"),
    path("audit/", views.audit_view, name="compliance_audit"),
    path("erasures/", views.erasure_list, name="erasure_list"),
    path("rules/", views.rule_catalogue, name="rule_catalogue"),
    path("accounts/<int:account_id>/erasure/", views.account_erasure, name="account_erasure"),
    path("holds/<int:hold_id>/lift/", views.hold_lift, name="hold_lift"),
    path(
        "disputes/<int:dispute_id>/verification/",
        views.dispute_verification,
        name="dispute_verification",
    ),
    path("accounts/<int:account_id>/dispute/", views.account_dispute, name="account_dispute"),
    path(
        "accounts/<int:account_id>/correspondence/",
        views.account_correspondence,
        name="account_correspondence",
    ),
    path("accounts/<int:account_id>/consent/", views.account_consent, name="account_consent"),
    path("accounts/<int:account_id>/hold/", views.account_hold, name="account_hold"),
    path(
        "accounts/<int:account_id>/circumstance/",
        views.account_circumstance,
        name="account_circumstance",
    ),
    path(
        "accounts/<int:account_id>/work-request/",
        views.account_work_request,
        name="account_work_request",
    ),
    path(
        "accounts/<int:account_id>/location-inquiry/",
        views.account_location_inquiry,
        name="account_location_inquiry",
    ),
    path(
        "circumstances/<int:circumstance_id>/end/",
        views.circumstance_end,
        name="circumstance_end",
    ),
    path(
        "accounts/<int:account_id>/validation-notice.pdf",
        views.validation_notice_preview,
        name="validation_notice_preview",
    ),
    path(
        "accounts/<int:account_id>/validation-notice/send/",
        views.validation_notice_send,
        name="validation_notice_send",
    ),
]
