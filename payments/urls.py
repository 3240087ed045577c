from django.urls import path

from payments import plan_views, public_views, views
from payments.remittance import views as remittance_views

# Under /o/<office>/payments/ (staff).
urlpatterns = [
    path("accounts/<int:account_id>/record/", views.payment_record, name="payment_record"),
    path("accounts/<int:account_id>/link/", views.payment_link, name="payment_link"),
    path("accounts/<int:account_id>/promise/", views.promise_new, name="promise_new"),
    path("accounts/<int:account_id>/offer/", views.offer_new, name="offer_new"),
    path("accounts/<int:account_id>/plan/", views.plan_new, name="plan_new"),
    path("plans/<int:plan_id>/review/", views.plan_review, name="plan_review"),
    path("plans/<int:plan_id>/cancel/", views.plan_cancel, name="plan_cancel"),
    path("plans/<int:plan_id>/lower/", plan_views.plan_lower, name="plan_lower"),
    path(
        "installments/<int:installment_id>/move/",
        plan_views.installment_move,
        name="installment_move",
    ),
    path(
        "installments/<int:installment_id>/skip/",
        plan_views.installment_skip,
        name="installment_skip",
    ),
    path("<int:payment_id>/returned/", views.payment_return, name="payment_return"),
    path("<int:payment_id>/refund/", views.payment_refund, name="payment_refund"),
    path("policy/", views.policy_edit, name="payment_policy"),
    path("policy/creditor/<int:creditor_id>/", views.policy_edit, name="payment_policy_creditor"),
    # Trust accounting (payments/remittance/).
    path("remittance/", remittance_views.remittance_list, name="remittance_list"),
    path(
        "remittance/<int:statement_id>/",
        remittance_views.remittance_detail,
        name="remittance_detail",
    ),
    path(
        "remittance/<int:statement_id>/issue/",
        remittance_views.remittance_issue,
        name="remittance_issue",
    ),
    path(
        "remittance/<int:statement_id>/discard/",
        remittance_views.remittance_discard,
        name="remittance_discard",
    ),
    path(
        "remittance/<int:statement_id>/csv/",
        remittance_views.remittance_csv,
        name="remittance_csv",
    ),
    path(
        "remittance/<int:statement_id>/pdf/",
        remittance_views.remittance_pdf,
        name="remittance_pdf",
    ),
    path("remittance/commission/", remittance_views.commission, name="remittance_commission"),
    path(
        "remittance/commission/<int:tier_id>/delete/",
        remittance_views.commission_tier_delete,
        name="commission_tier_delete",
    ),
    path("reconciliation/", remittance_views.reconciliation, name="reconciliation"),
    path(
        "reconciliation/lines/<int:line_id>/",
        remittance_views.bank_line_resolve,
        name="bank_line_resolve",
    ),
    path(
        "reconciliation/payouts/<int:payout_id>/",
        remittance_views.payout_detail,
        name="payout_detail",
    ),
    path(
        "accounts/<int:account_id>/direct/",
        remittance_views.direct_payment_report,
        name="direct_payment_report",
    ),
]

# Stripe's webhook endpoints (also served on the short road: recovery.webhook_urls).
webhook_urlpatterns = [
    path("payments/stripe/webhook/", public_views.stripe_webhook, name="stripe_webhook"),
    path(
        "payments/stripe/webhook/<slug:office_slug>/",
        public_views.stripe_webhook,
        name="stripe_webhook_office",
    ),
]

# Public: no login; each finds its office from a signed token or a verified event.
public_urlpatterns = [
    path("pay/demo/<str:token>/", public_views.demo_checkout, name="demo_checkout"),
    *webhook_urlpatterns,
]
