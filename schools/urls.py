from django.urls import path

from schools import views

app_name = "schools"

urlpatterns = [
    path("", views.etjanster_home, name="etjanster_home"),
]
