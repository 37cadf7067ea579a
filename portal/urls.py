from django.urls import path

from portal.views import _all as views
from portal.views import login

app_name = "portal"

urlpatterns = [
    path("logga-in/", login.portal_login, name="login"),
    path("", views.catalogue, name="catalogue"),
    path("material/<slug:slug>/", views.material_detail, name="material"),
    path("material/<slug:slug>/fil/", views.material_file, name="material_file"),
    path("konto/", views.account, name="account"),
    path("kod/", views.email_code, name="email_code"),
    path("konto/mina-uppgifter/", views.account_data_export, name="account_data_export"),
]
