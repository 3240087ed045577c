from django.contrib import admin

from compliance.models import Complaint, Decision, Dispute, Hold

admin.site.register([Decision, Hold, Dispute, Complaint])
