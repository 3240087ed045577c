"""Compliance pages (decisions, policy, complaints, audit) and the account page's
compliance actions. Thin: parse, call a service or selector, render. Who may do what is
in recovery.access; what may be recorded is in compliance.services."""

from compliance.views.account import (
    account_card_context,
    account_circumstance,
    account_consent,
    account_correspondence,
    account_dispute,
    account_hold,
    account_location_inquiry,
    account_work_request,
    circumstance_end,
    dispute_verification,
    hold_lift,
    validation_notice_preview,
    validation_notice_send,
)
from compliance.views.catalogue import rule_catalogue
from compliance.views.erasure import account_erasure, erasure_list
from compliance.views.officer import (
    audit_view,
    complaint_detail,
    complaint_list,
    complaint_new,
    decision_detail,
    decision_export,
    decision_list,
    policy_detail,
    policy_edit,
)

__all__ = [
    "dispute_verification",
    "validation_notice_preview",
    "validation_notice_send",
    "account_card_context",
    "account_circumstance",
    "circumstance_end",
    "account_consent",
    "account_correspondence",
    "account_dispute",
    "account_hold",
    "account_erasure",
    "erasure_list",
    "rule_catalogue",
    "account_location_inquiry",
    "account_work_request",
    "audit_view",
    "complaint_detail",
    "complaint_list",
    "complaint_new",
    "decision_detail",
    "decision_export",
    "decision_list",
    "hold_lift",
    "policy_detail",
    "policy_edit",
]
