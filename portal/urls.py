from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("material/<slug:slug>/", views.material_detail, name="material"),
    path("material/<slug:slug>/fil/", views.material_file, name="material_file"),
    path("konto/", views.account, name="account"),
    path("konto/mina-uppgifter/", views.account_data_export, name="account_data_export"),
]
