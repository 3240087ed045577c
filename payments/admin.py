from django.contrib import admin

from payments.models import Installment, Payment, PaymentPlan

admin.site.register([PaymentPlan, Installment, Payment])
