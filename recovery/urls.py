from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from recovery import views
from recovery.admin_site import tenant_admin_view

admin.site.admin_view = tenant_admin_view(admin.site.admin_view)

office_patterns = [
    path("", views.office_home, name="office_home"),
    path("work/", views.my_work, name="my_work"),
    path("work/<int:item_id>/done/", views.work_item_done, name="work_item_done"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/invite/", views.staff_invite, name="staff_invite"),
    path("staff/<int:membership_id>/", views.staff_edit, name="staff_edit"),
    path("accounts/", include("accounts.urls")),
    path("compliance/", include("compliance.urls")),
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
    path("api/v1/", include("recovery.api_urls")),
    path("admin/", admin.site.urls),
]
