from django.urls import path

from portal.views import pages, support

app_name = "support"

urlpatterns = [
    path("hjalp/", pages.help_page, name="help"),
    path("kontakt/", support.contact, name="contact"),
    path("kontakt/huvudman/", support.huvudman_lookup, name="huvudman_lookup"),
    path("tillganglighet/", pages.accessibility_statement, name="accessibility"),
]
