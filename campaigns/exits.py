"""Leaving and re-entering campaigns when something else settles the account's course:
a plan starts (exit), a plan breaks (resume where it left off), the account is paid."""

from django.utils import timezone

from campaigns.models import Enrollment


def enrollments_exit(*, account, reason):
    """Take the account out of its active campaigns; returns how many it left."""
    return Enrollment.objects.filter(account=account, status=Enrollment.Status.ACTIVE).update(
        status=Enrollment.Status.EXITED, exited_at=timezone.now(), exit_reason=reason[:40]
    )


def enrollments_resume(*, account, reason):
    """Put the account back into the campaigns it left for `reason`, at the step it was
    on, due now (the gate decides when it may really go)."""
    return Enrollment.objects.filter(
        account=account, status=Enrollment.Status.EXITED, exit_reason=reason[:40]
    ).update(
        status=Enrollment.Status.ACTIVE,
        exited_at=None,
        exit_reason="",
        next_due_at=timezone.now(),
    )
