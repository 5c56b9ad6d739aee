from django.urls import path

from api import converters  # noqa: F401 - registers <id:...>
from rentals.api import member_charges, views

urlpatterns = [
    path("quotes/", views.QuoteCreate.as_view(), name="quote-create"),
    path("rentals/", views.RentalList.as_view(), name="rental-list"),
    path("rentals/<int:pk>/", views.RentalDetail.as_view(), name="rental-detail"),
    path("rentals/<int:pk>/pause/", views.RentalPause.as_view(), name="rental-pause"),
    path("rentals/<int:pk>/resume/", views.RentalResume.as_view(), name="rental-resume"),
    path("rentals/<int:pk>/end/", views.RentalEnd.as_view(), name="rental-end"),
    path(
        "members/<id:pk>/charges/",
        member_charges.MemberChargeList.as_view(),
        name="member-charges",
    ),
]
