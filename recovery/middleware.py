"""Request context: a request id for every log line, and a clean tenancy slate.

Threads are reused between requests, so the office context is cleared at both ends of
every request; the office itself is set by `recovery.access.office_view` inside the
request's transaction.
"""

import re
import uuid

from recovery import tenancy
from recovery.logging import request_id

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        # Not reset on the way out: Django logs the response after this returns, and the
        # next request on this thread sets its own id first.
        request_id.set(rid)
        tenancy.deactivate()
        try:
            response = self.get_response(request)
        finally:
            tenancy.deactivate()
        response["X-Request-ID"] = rid
        return response
