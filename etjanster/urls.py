"""E-tjänster's addresses (namespace `etjanster`), under /e-tjanster/."""

from django.urls import path

from etjanster.views import (
    handover,
    home,
    imports,
    log,
    login,
    notices,
    school_year,
    ss12000,
    teacher_acts,
    teacher_bulk,
    teacher_list,
    teacher_pages,
    teacher_register,
    teacher_removal,
    test_admin_acts,
    test_admins,
)

app_name = "etjanster"

school = "skolor/<str:code>/"
teacher = school + "larare/<str:username>/"
test_admin = school + "provadministratorer/<str:username>/"

urlpatterns = [
    path("logga-in/", login.etjanster_login, name="login"),
    path("logga-in/matris/", login.etjanster_matrix, name="matrix"),
    path("mitt-konto/", login.etjanster_account, name="account"),
    path("mitt-konto/aviseringar/", notices.notification_settings, name="notification_settings"),
    path("", home.etjanster_home, name="etjanster_home"),
    path(school + "larare/", teacher_list.teacher_list, name="teacher_list"),
    path(school + "larare/ny/", teacher_register.teacher_register, name="teacher_register"),
    path(
        school + "larare/mig-sjalv/",
        teacher_register.teacher_register_self,
        name="teacher_register_self",
    ),
    path(school + "larare/importera/", imports.teacher_import, name="teacher_import"),
    path(
        school + "larare/importera/genomfor/",
        imports.teacher_import_apply,
        name="teacher_import_apply",
    ),
    path(
        school + "larare/importera/hamta/",
        imports.teacher_import_download,
        name="teacher_import_download",
    ),
    path(school + "larare/markerade/", teacher_bulk.teacher_bulk, name="teacher_bulk"),
    path(teacher, teacher_pages.teacher_detail, name="teacher_detail"),
    path(teacher + "losenord/", teacher_pages.teacher_password, name="teacher_password"),
    path(
        teacher + "skolkonto/<int:pk>/ta-bort/",
        teacher_pages.teacher_school_account_unlink,
        name="teacher_school_account_unlink",
    ),
    path(teacher + "lapp/", teacher_acts.teacher_slip, name="teacher_slip"),
    path(teacher + "ny-kod/", teacher_acts.teacher_code_resend, name="teacher_code_resend"),
    path(
        teacher + "losenordskod/",
        teacher_acts.teacher_password_code,
        name="teacher_password_code",
    ),
    path(teacher + "uppgifter/", teacher_acts.teacher_data, name="teacher_data"),
    path(teacher + "ateraktivera/", teacher_acts.teacher_reactivate, name="teacher_reactivate"),
    path(teacher + "ta-bort/", teacher_removal.teacher_remove, name="teacher_remove"),
    path(
        school + "larare-borttagna/",
        teacher_removal.teacher_removed_list,
        name="teacher_removed",
    ),
    path(
        school + "larare-borttagna/<int:membership_id>/aterstall/",
        teacher_removal.teacher_restore,
        name="teacher_restore",
    ),
    path(school + "fran-skolans-system/", ss12000.ss12000_proposals, name="ss12000_proposals"),
    path(school + "nytt-lasar/", school_year.new_school_year, name="new_school_year"),
    path(school + "provadministratorer/", test_admins.test_admin_list, name="test_admin_list"),
    # One address per act on a test administrator; any other is a 404.
    path(test_admin + "losenord/", test_admin_acts.test_admin_password, name="test_admin_password"),
    path(test_admin + "kort/", test_admin_acts.test_admin_card, name="test_admin_card"),
    path(
        test_admin + "las-upp/",
        test_admin_acts.test_admin_card_unlock,
        name="test_admin_card_unlock",
    ),
    path(
        test_admin + "inaktivera/",
        test_admin_acts.test_admin_deactivate,
        name="test_admin_deactivate",
    ),
    path(
        test_admin + "ateraktivera/",
        test_admin_acts.test_admin_reactivate,
        name="test_admin_reactivate",
    ),
    path(school + "overlamning/", handover.handover, name="handover"),
    path(school + "overlamning/pdf/", handover.handover_pdf, name="handover_pdf"),
    path(school + "logg/", log.audit_log, name="audit_log"),
    path(school + "logg/csv/", log.audit_log_csv, name="audit_log_csv"),
]
