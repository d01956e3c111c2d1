from django.urls import path

from airlock import views

app_name = "airlock"

urlpatterns = [
    path("projects/<int:project_pk>/outputs/", views.project_outputs, name="project-outputs"),
    path("projects/<int:project_pk>/outputs/new/", views.request_new, name="new"),
    path("jobs/<int:pk>/export/", views.request_from_job, name="from-job"),
    path("outputs/queue/", views.review_queue, name="queue"),
    path("outputs/<int:pk>/", views.request_detail, name="request"),
    path("outputs/<int:pk>/files/", views.file_add, name="file-add"),
    path("outputs/<int:pk>/files/<int:file_pk>/", views.file_update, name="file-update"),
    path("outputs/<int:pk>/files/<int:file_pk>/replace/", views.file_replace, name="file-replace"),
    path("outputs/<int:pk>/files/<int:file_pk>/remove/", views.file_remove, name="file-remove"),
    path("outputs/<int:pk>/files/<int:file_pk>/vote/", views.vote, name="vote"),
    path("outputs/<int:pk>/files/<int:file_pk>/download/", views.download, name="download"),
    path("outputs/<int:pk>/submit/", views.request_submit, name="submit"),
    path("outputs/<int:pk>/withdraw/", views.request_withdraw, name="withdraw"),
    path("outputs/<int:pk>/review/", views.request_review, name="review"),
    path("outputs/<int:pk>/review/submit/", views.review_submit, name="review-submit"),
    path("outputs/<int:pk>/decide/", views.decide, name="decide"),
    path("outputs/<int:pk>/record/", views.record_download, name="record"),
]
