from django.urls import path

from analysis import api

app_name = "jobs-api"

urlpatterns = [
    path("", api.JobListCreate.as_view(), name="list"),
    path("types/", api.JobTypeList.as_view(), name="types"),
    path("estimate/", api.JobEstimate.as_view(), name="estimate"),
    path("<int:pk>/", api.JobDetail.as_view(), name="detail"),
    path("<int:pk>/cancel/", api.JobCancel.as_view(), name="cancel"),
    path("<int:pk>/retry/", api.JobRetry.as_view(), name="retry"),
    path("<int:pk>/artifacts/", api.ArtifactList.as_view(), name="artifacts"),
    path("<int:pk>/artifacts/<slug:key>/rows/", api.ArtifactRows.as_view(), name="rows"),
]
