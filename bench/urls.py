"""The site's URLs plus the benchmark's own (bench.settings only)."""

from django.urls import path

from bench import views
from bench.admin import site as bench_admin_site
from config import urls as site_urls

urlpatterns = [
    path("bench/hello/", views.hello),
    path("bench/hello/inloggad/", views.hello_logged_in),
    path("bench/admin/", bench_admin_site.urls),
    *site_urls.urlpatterns,
]

handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500
