from django.urls import path

from portal.views import _all as views

app_name = "support"

urlpatterns = [
    path("hjalp/", views.help_page, name="help"),
    path("kontakt/", views.contact, name="contact"),
    path("kontakt/huvudman/", views.huvudman_lookup, name="huvudman_lookup"),
    path("tillganglighet/", views.accessibility_statement, name="accessibility"),
]
