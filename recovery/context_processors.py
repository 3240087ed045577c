from recovery.models import Membership


def office(request):
    """The office in view and the user's other offices, for the header's switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = (
        Membership.objects.select_related("office")
        .filter(user=user, is_active=True, office__is_active=True)
        .order_by("office__name")
    )
    return {
        "current_office": getattr(request, "office", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": memberships,
    }
