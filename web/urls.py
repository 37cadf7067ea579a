"""The addresses every site shares (namespace `web`): logout and the idle warning's "Fortsätt"."""

from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("logga-ut/", views.logout, name="logout"),
    path("sessionen/fortsatt/", views.session_keepalive, name="session_keepalive"),
]
