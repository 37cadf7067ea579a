"""The service provider's protocol addresses (namespace `saml2`; never
translated: an IdP has them in its metadata)."""

from django.urls import path

from web import saml, views

app_name = "saml2"

urlpatterns = [
    path("metadata/", saml.saml_metadata, name="metadata"),
    path("login/", saml.saml_login, name="login"),
    path("acs/", saml.saml_acs, name="acs"),
    path("fortsatt/", saml.saml_finish, name="finish"),
    # The portal's own logout (the IdP's single sign-on session is the IdP's).
    path("logout/", views.logout, name="logout"),
]
