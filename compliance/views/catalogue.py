"""The rule catalogue as officers read it: every rule id, what it stands for and where
it is enforced."""

from django.shortcuts import render

from compliance.rules import GATE, catalogue_listing
from recovery.access import COMPLIANCE_READERS, office_view


@office_view(roles=COMPLIANCE_READERS)
def rule_catalogue(request):
    rows = [{"id": i, "title": t, "where": w, "gate": w == GATE} for i, t, w in catalogue_listing()]
    return render(request, "compliance/rule_catalogue.html", {"rows": rows})
