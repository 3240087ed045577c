from django.contrib import admin

from campaigns.models import Campaign, Enrollment, Message, MessageTemplate, Step

admin.site.register([Campaign, Step, Enrollment, Message, MessageTemplate])
