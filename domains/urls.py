from django.urls import path

from domains import views
from domains.models import APPLICATIONS_PAGE, REVIEW_PAGE

app_name = "domains"

urlpatterns = [
    path("domains/", views.directory, name="directory"),
    path(f"domains/{REVIEW_PAGE}/", views.review_queue, name="review-queue"),
    path(f"domains/{APPLICATIONS_PAGE}/<int:pk>/", views.application_detail, name="application"),
    path(f"domains/{APPLICATIONS_PAGE}/<int:pk>/withdraw/", views.application_withdraw, name="application-withdraw"),
    path(f"domains/{APPLICATIONS_PAGE}/<int:pk>/decide/", views.application_decide, name="application-decide"),
    path(f"domains/{APPLICATIONS_PAGE}/<int:pk>/revoke/", views.application_revoke, name="application-revoke"),
    path("domains/<slug:slug>/", views.domain_detail, name="domain"),
    path("domains/<slug:slug>/projects/new/", views.project_new, name="project-new"),
    path("projects/", views.my_projects, name="my-projects"),
    path("projects/register/", views.project_register, name="project-register"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project-edit"),
    path("projects/<int:pk>/decide/", views.project_decide, name="project-decide"),
    path("projects/<int:pk>/withdraw/", views.project_withdraw, name="project-withdraw"),
    path("projects/<int:pk>/members/", views.project_member_add, name="project-member-add"),
    path("projects/<int:pk>/members/<int:user_pk>/remove/", views.project_member_remove, name="project-member-remove"),
    path("projects/<int:project_pk>/workspace/", views.project_workspace, name="project-workspace"),
]
