from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("two-factor/set-up/", views.mfa_enrol, name="mfa-enrol"),
    path("two-factor/verify/", views.mfa_verify, name="mfa-verify"),
    path("", views.account, name="account"),
]
