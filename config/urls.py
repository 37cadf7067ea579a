from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from config import views as config_views
from portal import views as portal_views
from schools.huvudman_admin import huvudman_site

urlpatterns = [
    path("", portal_views.home, name="home"),
    # The logins come before the e-tjanster/ and bedomningsportalen/ includes.
    path("", include("accounts.urls")),
    path("bedomningsportalen/logga-in/", accounts_views.portal_login, name="portal_login"),
    path("e-tjanster/", include("schools.urls")),
    path("admin/", admin.site.urls),
    path("huvudman/", huvudman_site.urls),
    # After any explicit bedomningsportalen/... route (the teacher login).
    path("bedomningsportalen/", include("portal.urls")),
    path("", include("portal.support_urls")),
    # nginx's page for a request body over its limit (error_page 413).
    path("fel/for-stor/", config_views.request_too_large, name="request_too_large"),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
