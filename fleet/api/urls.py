from django.urls import path

from api import converters  # noqa: F401 - registers <id:...>
from fleet.api import views

urlpatterns = [
    path("zones/", views.ZoneList.as_view(), name="zone-list"),
    path("zones/<slug:code>/", views.ZoneDetail.as_view(), name="zone-detail"),
    path("vehicles/", views.VehicleList.as_view(), name="vehicle-list"),
    path("vehicles/<str:plate>/", views.VehicleDetail.as_view(), name="vehicle-detail"),
    path("tariffs/", views.TariffList.as_view(), name="tariff-list"),
    path("tariffs/<int:pk>/", views.TariffDetail.as_view(), name="tariff-detail"),
    path("members/", views.MemberList.as_view(), name="member-list"),
    path("members/<int:pk>/", views.MemberDetail.as_view(), name="member-detail"),
    path("fees/", views.FeeList.as_view(), name="fee-list"),
    path("fees/<id:pk>/", views.FeeDetail.as_view(), name="fee-detail"),
    path("passes/", views.PassList.as_view(), name="pass-list"),
    path("subscriptions/", views.SubscriptionList.as_view(), name="subscription-list"),
    path("subscriptions/<id:pk>/", views.SubscriptionDetail.as_view(), name="subscription-detail"),
    path(
        "subscriptions/<id:pk>/cancel/",
        views.SubscriptionCancel.as_view(),
        name="subscription-cancel",
    ),
]
