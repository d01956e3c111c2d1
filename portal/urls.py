from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts import views as account_views

# The admin signs in through the portal's own sign-in (password + two-factor).
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Research environment administration"

urlpatterns = [
    path("", account_views.dashboard, name="dashboard"),
    path("healthz", account_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("governance/", include("audit.urls")),
    path("governance/withdrawals/", include("participants.urls")),
    path("", include("domains.urls")),
    path("cohorts/", include("cohorts.urls")),
    path("api/v1/", include("domains.api_urls")),
    path("api/v1/cohorts/", include("cohorts.api_urls")),
    path("api/v1/withdrawals/", include("participants.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
]
