from django.urls import path

from analysis import views

app_name = "analysis"

urlpatterns = [
    path("projects/<int:project_pk>/analyses/new/", views.job_new, name="new"),
    path("projects/<int:project_pk>/analyses/estimate/", views.job_estimate, name="estimate"),
    path("projects/<int:project_pk>/jobs/", views.project_jobs, name="project-jobs"),
    path("analyses/from-cohort/<int:pk>/", views.job_from_cohort, name="from-cohort"),
    path("jobs/", views.my_jobs, name="my-jobs"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("jobs/<int:pk>/row/", views.job_row, name="job-row"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job-retry"),
    path("jobs/<int:pk>/tables/<slug:key>/", views.job_table, name="job-table"),
]
