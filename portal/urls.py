from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from accounts import views as account_views

# The admin signs in through the portal's own sign-in (password + two-factor).
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Research environment administration"

urlpatterns = [
    path("", account_views.dashboard, name="dashboard"),
    path("healthz", account_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("governance/", include("audit.urls")),
    path("admin/", admin.site.urls),
]
