from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.auth import ObtainToken
from api.health import healthz

api = [
    path("auth/token/", ObtainToken.as_view(), name="auth-token"),
    path("", include("fleet.api.urls")),
    path("", include("rentals.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("webhooks.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/", include(api)),
    path("admin/", admin.site.urls),
]

handler404 = "api.not_found.not_found"
