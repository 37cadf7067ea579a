from django.urls import path

from etjanster.views import _all as views
from etjanster.views import login

app_name = "etjanster"

school = "skolor/<str:code>/"
teacher = school + "larare/<str:username>/"

urlpatterns = [
    path("logga-in/", login.etjanster_login, name="login"),
    path("logga-in/matris/", login.etjanster_matrix, name="matrix"),
    path("mitt-konto/", login.etjanster_account, name="account"),
    path("", views.etjanster_home, name="etjanster_home"),
    path(school + "larare/", views.teacher_list, name="teacher_list"),
    path(school + "larare/ny/", views.teacher_register, name="teacher_register"),
    path(school + "larare/mig-sjalv/", views.teacher_register_self, name="teacher_register_self"),
    path(school + "larare/importera/", views.teacher_import, name="teacher_import"),
    path(
        school + "larare/importera/genomfor/",
        views.teacher_import_apply,
        name="teacher_import_apply",
    ),
    path(
        school + "larare/importera/hamta/",
        views.teacher_import_download,
        name="teacher_import_download",
    ),
    path(school + "larare/lappar/", views.teacher_slips, name="teacher_slips"),
    path(teacher, views.teacher_detail, name="teacher_detail"),
    path(teacher + "losenord/", views.teacher_password, name="teacher_password"),
    path(teacher + "lapp/", views.teacher_slip, name="teacher_slip"),
    path(teacher + "ny-kod/", views.teacher_code_resend, name="teacher_code_resend"),
    path(teacher + "losenordskod/", views.teacher_password_code, name="teacher_password_code"),
    path(teacher + "uppgifter/", views.teacher_data, name="teacher_data"),
    path(teacher + "ateraktivera/", views.teacher_reactivate, name="teacher_reactivate"),
    path(teacher + "ta-bort/", views.teacher_remove, name="teacher_remove"),
    path(school + "larare-borttagna/", views.teacher_removed_list, name="teacher_removed"),
    path(
        school + "larare-borttagna/<int:membership_id>/aterstall/",
        views.teacher_restore,
        name="teacher_restore",
    ),
    path(school + "nytt-lasar/", views.new_school_year, name="new_school_year"),
    path(school + "provadministratorer/", views.test_admin_list, name="test_admin_list"),
    path(
        school + "provadministratorer/<str:username>/<slug:action>/",
        views.test_admin_action,
        name="test_admin_action",
    ),
    path(school + "logg/", views.audit_log, name="audit_log"),
    path(school + "logg/csv/", views.audit_log_csv, name="audit_log_csv"),
]
