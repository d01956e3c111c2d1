from django.urls import path

from airlock import api

app_name = "outputs-api"

urlpatterns = [
    path("", api.RequestListCreate.as_view(), name="list"),
    path("queue/", api.Queue.as_view(), name="queue"),
    path("ledger/", api.Ledger.as_view(), name="ledger"),
    path("<int:pk>/", api.RequestDetail.as_view(), name="detail"),
    path("<int:pk>/files/", api.FileAdd.as_view(), name="files"),
    path("<int:pk>/files/<int:file_pk>/", api.FileDetail.as_view(), name="file"),
    path("<int:pk>/files/<int:file_pk>/replace/", api.FileReplace.as_view(), name="file-replace"),
    path("<int:pk>/files/<int:file_pk>/vote/", api.VoteCast.as_view(), name="vote"),
    path("<int:pk>/files/<int:file_pk>/download/", api.Download.as_view(), name="download"),
    path("<int:pk>/checks/", api.Checks.as_view(), name="checks"),
    path("<int:pk>/submit/", api.Submit.as_view(), name="submit"),
    path("<int:pk>/withdraw/", api.Withdraw.as_view(), name="withdraw"),
    path("<int:pk>/review/", api.ReviewSubmit.as_view(), name="review"),
    path("<int:pk>/decide/", api.Decide.as_view(), name="decide"),
    path("<int:pk>/record/", api.RecordDownload.as_view(), name="record"),
]
