"""What every compliance view shares: the office's calendar and errors put back on forms."""

from zoneinfo import ZoneInfo

from django.utils import timezone


def office_zone(request):
    return ZoneInfo(request.office.time_zone)


def office_today(request):
    return timezone.localdate(timezone=office_zone(request))


def add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
