from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("two-factor/set-up/", views.mfa_enrol, name="mfa-enrol"),
    path("two-factor/verify/", views.mfa_verify, name="mfa-verify"),
    path("", views.account, name="account"),
    path("details/", views.account_details, name="details"),
    path("agreement/", views.account_agreement, name="agreement"),
    path("password/", views.account_password, name="password"),
    path("tokens/", views.account_token_create, name="token-create"),
    path("tokens/<int:pk>/revoke/", views.account_token_revoke, name="token-revoke"),
]
