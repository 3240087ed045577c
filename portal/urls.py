from django.urls import path
from django.views.i18n import set_language

from portal.views import account, entry, pay

app_name = "portal"

urlpatterns = [
    path("o/<slug:office_slug>/", entry.office_home, name="office_home"),
    path("verify/", entry.verify, name="verify"),
    path("signout/", entry.sign_out, name="sign_out"),
    path("language/", set_language, name="set_language"),
    path("help/money/", account.financial_health, name="financial_health"),
    path("accounts/", account.overview, name="overview"),
    path("accounts/<int:account_id>/", account.account_detail, name="account"),
    path(
        "accounts/<int:account_id>/documents/<int:document_id>/",
        account.document_open,
        name="document",
    ),
    path("accounts/<int:account_id>/notice.pdf", account.notice_pdf, name="notice_pdf"),
    path("accounts/<int:account_id>/dispute/", account.dispute, name="dispute"),
    path("accounts/<int:account_id>/dispute/sent/", account.dispute_sent, name="dispute_sent"),
    path(
        "accounts/<int:account_id>/validation/",
        account.validation_request,
        name="validation_request",
    ),
    path("accounts/<int:account_id>/hardship/", account.hardship, name="hardship"),
    path("accounts/<int:account_id>/pay/", pay.pay, name="pay"),
    path("accounts/<int:account_id>/pay/done/", pay.pay_done, name="pay_done"),
    path("accounts/<int:account_id>/plans/", pay.plans, name="plans"),
    path("pay/", pay.pay_several, name="pay_several"),
    path("preferences/", account.preferences, name="preferences"),
    path("messages/", account.messages, name="messages"),
    # Last: a token is any string the other routes are not.
    path("<str:token>/", entry.link_open, name="link"),
]
