from django.urls import path

from portal.views import account, catalogue, forgot, login

app_name = "portal"

urlpatterns = [
    path("logga-in/", login.portal_login, name="login"),
    path("", catalogue.catalogue, name="catalogue"),
    path("material/<slug:slug>/", catalogue.material_detail, name="material"),
    path("material/<slug:slug>/fil/", catalogue.material_file, name="material_file"),
    path("konto/", account.account, name="account"),
    path("kod/", account.email_code, name="email_code"),
    path("glomt-losenord/", forgot.forgot_password, name="forgot_password"),
    path("glomt-losenord/nytt-losenord/", forgot.forgot_password_code, name="forgot_password_code"),
    path("konto/mina-uppgifter/", account.account_data_export, name="account_data_export"),
]
