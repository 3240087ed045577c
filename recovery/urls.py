from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import creditor_views
from payments.urls import public_urlpatterns as payment_public_urls
from recovery import api_key_views, views
from recovery.admin_site import tenant_admin_view

admin.site.admin_view = tenant_admin_view(admin.site.admin_view)

office_patterns = [
    path("", views.office_home, name="office_home"),
    path("work/", views.my_work, name="my_work"),
    path("work/<int:item_id>/done/", views.work_item_done, name="work_item_done"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/invite/", views.staff_invite, name="staff_invite"),
    path("staff/<int:membership_id>/", views.staff_edit, name="staff_edit"),
    path("api-keys/", api_key_views.api_key_list, name="api_key_list"),
    path("api-keys/<int:key_id>/revoke/", api_key_views.api_key_revoke, name="api_key_revoke"),
    path("accounts/", include("accounts.urls")),
    path("creditors/", creditor_views.creditor_list, name="creditor_list"),
    path("creditors/new/", creditor_views.creditor_edit, name="creditor_new"),
    path("creditors/<int:creditor_id>/", creditor_views.creditor_edit, name="creditor_edit"),
    path("compliance/", include("compliance.urls")),
    path("payments/", include("payments.urls")),
    path("campaigns/", include("campaigns.staff_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("o/<slug:office_slug>/", include(office_patterns)),
    path("", include(payment_public_urls)),
    path("api/", include("recovery.api_urls")),
    path("p/", include("portal.urls")),
    path("webhooks/", include("campaigns.urls")),
    path("admin/", admin.site.urls),
]
