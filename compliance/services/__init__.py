"""Verbs that change what the rules know: consents and opt-outs, holds, disputes,
validation notices, complaints, incoming correspondence and the office's policy. One
transaction each; each leaves an event on the timeline and takes effect as of when it
happened (which may be before it was recorded).

One module per family; every public name is re-exported here, so callers import from
`compliance.services` and never need to know which module holds a verb."""

from compliance.services.circumstances import (
    circumstance_end,
    circumstance_record,
    circumstance_started,
)
from compliance.services.complaints import (
    COMPLAINT_RESPONSE_DAYS_CFPB,
    COMPLAINT_RESPONSE_DAYS_OTHER,
    complaint_create,
    complaint_outcome_record,
    complaint_response_days,
    complaint_task_title,
)
from compliance.services.consent import (
    CHANNELS_BY_CONTACT_KIND,
    START_WORDS,
    STOP_WORDS,
    consent_record,
    sms_inbound_record,
    sms_keyword,
)
from compliance.services.dates import business_days_after, day_end, day_label, day_start, hold_end
from compliance.services.disputes import dispute_record, dispute_verification_record
from compliance.services.erasure import (
    erasure_perform,
    erasure_request_record,
    erasure_review,
    erasures_due_run,
)
from compliance.services.holds import hardship_grant, hardship_pause_days, hold_lift, hold_place
from compliance.services.inbound import Correspondence, CorrespondenceResult, correspondence_record
from compliance.services.notices import validation_notice_record, validation_period
from compliance.services.policy import (
    HARDSHIP_MAX_DAYS,
    POLICY_CHANNELS,
    policy_change,
    policy_effective,
    policy_errors,
    policy_limits,
)
from compliance.services.preferences import WORK_REQUEST_METHODS, work_contact_request_record
from compliance.services.third_parties import THIRD_PARTY_RELATIONS, location_inquiry_log

__all__ = [
    "CHANNELS_BY_CONTACT_KIND",
    "COMPLAINT_RESPONSE_DAYS_CFPB",
    "COMPLAINT_RESPONSE_DAYS_OTHER",
    "HARDSHIP_MAX_DAYS",
    "POLICY_CHANNELS",
    "START_WORDS",
    "THIRD_PARTY_RELATIONS",
    "WORK_REQUEST_METHODS",
    "STOP_WORDS",
    "Correspondence",
    "CorrespondenceResult",
    "business_days_after",
    "circumstance_end",
    "circumstance_record",
    "circumstance_started",
    "complaint_create",
    "complaint_outcome_record",
    "complaint_response_days",
    "complaint_task_title",
    "consent_record",
    "correspondence_record",
    "day_end",
    "day_label",
    "day_start",
    "dispute_record",
    "dispute_verification_record",
    "erasure_perform",
    "erasure_request_record",
    "erasure_review",
    "erasures_due_run",
    "hardship_grant",
    "hardship_pause_days",
    "hold_end",
    "hold_lift",
    "hold_place",
    "location_inquiry_log",
    "policy_change",
    "policy_effective",
    "policy_errors",
    "policy_limits",
    "sms_inbound_record",
    "sms_keyword",
    "validation_notice_record",
    "validation_period",
    "work_contact_request_record",
]
