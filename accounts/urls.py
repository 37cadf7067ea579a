from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("e-tjanster/logga-in/", views.etjanster_login, name="login"),
    path("e-tjanster/logga-in/matris/", views.etjanster_matrix, name="matrix"),
    path("e-tjanster/mitt-konto/", views.etjanster_account, name="etjanster_account"),
    path("logga-ut/", views.logout, name="logout"),
    path("sessionen/fortsatt/", views.session_keepalive, name="session_keepalive"),
]
