from django.urls import path

from domains import api

app_name = "api"

urlpatterns = [
    path("domains/", api.DomainList.as_view(), name="domains"),
    path("applications/", api.ApplicationListCreate.as_view(), name="applications"),
    path("applications/<int:pk>/", api.ApplicationDetail.as_view(), name="application"),
    path("applications/<int:pk>/withdraw/", api.ApplicationWithdraw.as_view(), name="application-withdraw"),
    path("applications/<int:pk>/approve/", api.ApplicationApprove.as_view(), name="application-approve"),
    path("applications/<int:pk>/reject/", api.ApplicationReject.as_view(), name="application-reject"),
    path("reviews/applications/", api.ApplicationReviewList.as_view(), name="review-applications"),
    path("projects/", api.ProjectListCreate.as_view(), name="projects"),
    path("projects/<int:pk>/", api.ProjectDetail.as_view(), name="project"),
    path("projects/<int:pk>/approve/", api.ProjectApprove.as_view(), name="project-approve"),
    path("projects/<int:pk>/reject/", api.ProjectReject.as_view(), name="project-reject"),
    path("projects/<int:pk>/return/", api.ProjectReturn.as_view(), name="project-return"),
    path("projects/<int:pk>/withdraw/", api.ProjectWithdraw.as_view(), name="project-withdraw"),
    path("reviews/projects/", api.ProjectReviewList.as_view(), name="review-projects"),
]
