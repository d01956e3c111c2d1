from django.urls import path

from participants import api

app_name = "participants-api"

urlpatterns = [
    path("", api.WithdrawalListCreate.as_view(), name="withdrawals"),
]
