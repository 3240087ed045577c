"""The Django admin is the platform operator's cross-office console: every admin view
runs inside `tenancy.all_offices`, and only platform staff (is_staff) get in."""

from functools import wraps

from recovery import tenancy


def tenant_admin_view(original_admin_view):
    def admin_view(view, cacheable=False):
        @wraps(view)
        def inner(request, *args, **kwargs):
            with tenancy.all_offices("platform admin"):
                response = view(request, *args, **kwargs)
                # Admin pages are TemplateResponses rendered after the view returns:
                # render inside the block, where their queries may cross offices.
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
                return response

        return original_admin_view(inner, cacheable)

    return admin_view
