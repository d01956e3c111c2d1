from django.urls import path

from cohorts import api

app_name = "cohorts-api"

urlpatterns = [
    path("count", api.CohortCount.as_view(), name="count"),
    path("", api.CohortListCreate.as_view(), name="list"),
    path("<int:pk>/", api.CohortDetail.as_view(), name="detail"),
    path("<int:pk>/versions/", api.CohortVersion.as_view(), name="versions"),
]
