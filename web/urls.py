"""The addresses every site shares (namespace `web`): logout and the idle warning's "Fortsätt"."""

from django.urls import path

from web import saml_pages, views

app_name = "web"

urlpatterns = [
    path("logga-ut/", views.logout, name="logout"),
    path("sessionen/fortsatt/", views.session_keepalive, name="session_keepalive"),
    # Log in with the school's own account (federated login, SAML 2.0).
    path("logga-in/skolkonto/", saml_pages.federation_choose, name="federation_choose"),
    path("logga-in/skolkonto/bekrafta/", saml_pages.federation_confirm, name="federation_confirm"),
    path(
        "bedomningsportalen/konto/skolkonto/<int:pk>/ta-bort/",
        saml_pages.federation_unlink,
        name="federation_unlink",
    ),
]
