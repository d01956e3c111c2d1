from django.urls import path

from participants import views

app_name = "participants"

urlpatterns = [
    path("", views.withdrawal_register, name="withdrawals"),
]
