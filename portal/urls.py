from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as account_views

# The admin signs in through the portal's own sign-in (password + two-factor);
# its own login form is never shown (it would replace the portal session).
admin.site.login = account_views.admin_login  # type: ignore[method-assign]
admin.site.site_header = "Research environment administration"

urlpatterns = [
    path("", account_views.dashboard, name="dashboard"),
    path("healthz", account_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("governance/", include("audit.urls")),
    path("governance/withdrawals/", include("participants.urls")),
    path("", include("domains.urls")),
    path("cohorts/", include("cohorts.urls")),
    path("", include("analysis.urls")),
    path("", include("airlock.urls")),
    path("api/v1/", include("domains.api_urls")),
    path("api/v1/cohorts/", include("cohorts.api_urls")),
    path("api/v1/jobs/", include("analysis.api_urls")),
    path("api/v1/outputs/", include("airlock.api_urls")),
    path("api/v1/withdrawals/", include("participants.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/v1/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]

# Under /api/ every error answer is JSON of one shape (accounts.api_errors).
handler400 = "accounts.api_errors.bad_request"
handler403 = "accounts.api_errors.forbidden"
handler404 = "accounts.api_errors.not_found"
handler500 = "accounts.api_errors.server_error"
