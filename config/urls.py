from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from backoffice.huvudman import huvudman_site
from backoffice.moved import moved_urls
from core import views as core_views
from portal.views import as_teacher as portal_as_teacher
from portal.views import pages as portal_pages

# Every page in both languages: the Swedish public-contract paths unprefixed
# (SPEC.md), English under /en/. LocaleMiddleware takes the language from the
# path alone, so a bookmark or a printed address always opens in Swedish.
urlpatterns = i18n_patterns(
    path("", portal_pages.home, name="home"),
    path("", include("web.urls")),
    # E-tjänster's address for a page of the portal's (the catalogue as one
    # teacher sees it): the two sites never import each other.
    path(
        "e-tjanster/skolor/<str:code>/larare/<str:username>/som-lararen/",
        portal_as_teacher.catalogue_as_teacher,
        name="catalogue_as_teacher",
    ),
    path("e-tjanster/", include("etjanster.urls")),
    *moved_urls("admin/"),
    path("admin/", admin.site.urls),
    *moved_urls("huvudman/"),
    path("huvudman/", huvudman_site.urls),
    path("bedomningsportalen/", include("portal.urls")),
    path("", include("portal.support_urls")),
    # nginx's page for a request body over its limit (error_page 413).
    path("fel/for-stor/", core_views.request_too_large, name="request_too_large"),
    # nginx's pages for a material file it could not send (error_page in
    # deploy/nginx/behorighet.conf's internal download locations).
    path("fel/saknas/", core_views.page_not_found, name="file_missing"),
    path("fel/filarkivet/", core_views.storage_unavailable, name="storage_unavailable"),
    prefix_default_language=False,
)

# The SAML service provider's protocol addresses, in no language (web/saml_urls.py).
urlpatterns += [path("saml2/", include("web.saml_urls"))]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
