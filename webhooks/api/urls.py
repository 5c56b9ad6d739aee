from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("webhooks/endpoints/", views.EndpointList.as_view(), name="webhook-endpoint-list"),
    path(
        "webhooks/endpoints/<int:pk>/",
        views.EndpointDetail.as_view(),
        name="webhook-endpoint-detail",
    ),
    path("webhooks/deliveries/", views.DeliveryList.as_view(), name="webhook-delivery-list"),
    path(
        "webhooks/deliveries/<int:pk>/",
        views.DeliveryDetail.as_view(),
        name="webhook-delivery-detail",
    ),
    path(
        "webhooks/deliveries/<int:pk>/resend/",
        views.DeliveryResend.as_view(),
        name="webhook-delivery-resend",
    ),
]
