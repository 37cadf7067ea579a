"""A database of the previous release migrates to this one and keeps working.

The previous release (commit c49c664) kept the outbox and spent form tokens in
`accounts`, rate-limit hits and site notices in `portal` and the audit log in
`permissions`. This release moves those models to `core` and `audit` without
moving a row: state-only migrations keep the tables, and the new apps' 0001
renames the content types. The test takes its worker's test database back to
the previous release's migrations, fills every table of that schema through
the historical models (as that release wrote them: card MACs, sealed mail, a
logged-in session), migrates forward as a deploy does (`manage.py migrate`:
the migrations, then post_migrate), and checks with the current code that
every row is still there, byte for byte, and still works.

PostgreSQL only: the audit log's trigger exists only there, and CI and
production run it. It migrates its worker's shared test database back and
forward, so it is transactional (migrations commit; there is no test
transaction to roll back) and puts the latest migrations back at the end,
also when it fails; the flush after it then empties the tables as usual.
"""

import datetime
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management.sql import emit_post_migrate_signal
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import CARD_ALPHABET, CARD_CELLS, MatrixCardDevice, User
from accounts.services.cards import AnswerOutcome, card_answer, card_challenge
from accounts.session_store import SessionStore
from audit.context import AuditContext
from audit.models import AuditEvent
from audit.retention import audit_purge
from core.models import OutboxMessage, SiteNotice, SpentFormToken
from core.outbox import outbox_send_due
from core.ratelimit import rate_limit_full, rate_limit_hit
from core.sealed import derived_key, seal
from permissions.models import Membership
from portal.models import Material, SupportTicket

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The previous release's last migration of each of the project's apps.
PREVIOUS_RELEASE = {
    "accounts": "0010_spent_form_token",
    "permissions": "0007_membership_typed_name",
    "portal": "0003_support_ticket_handling",
    "schools": "0003_principal_proxy",
}
# Apps the previous release did not have: no migration of theirs applied.
NEW_APPS = ("core", "audit", "notifications", "provisioning", "federation")
# The models that moved (content type model name): app then, app now.
MOVED = {
    "outboxmessage": ("accounts", "core"),
    "spentformtoken": ("accounts", "core"),
    "ratelimithit": ("portal", "core"),
    "sitenotice": ("portal", "core"),
    "auditevent": ("permissions", "audit"),
}
# Not data: Django's record of the applied migrations, which this test changes.
MIGRATION_RECORDS = "django_migrations"
PASSWORD = "forra-versionen-1234"


def require_postgresql() -> None:
    if connection.vendor == "postgresql":
        return
    reason = (
        "needs PostgreSQL: the audit log's append-only trigger exists only there "
        "(set DATABASE_URL=postgres://...; CI does)"
    )
    if IN_CI:
        pytest.fail(f"CI=true but the database is {connection.vendor}: this test {reason}")
    pytest.skip(reason)


# --- Migrating the test database ----------------------------------------------


def project_apps() -> set[str]:
    """The labels of the project's own apps (top-level packages of the checkout)."""
    base = Path(settings.BASE_DIR).resolve()
    return {
        config.label
        for config in django_apps.get_app_configs()
        if Path(config.path).resolve().parent == base
    }


def previous_release_targets(executor: MigrationExecutor) -> list[tuple[str, str | None]]:
    """Where each app stood at the previous release: the project's apps at the
    migrations above (the new ones at zero), Django's and django-otp's at
    their last migration, which the pinned versions have not changed since."""
    leaves = executor.loader.graph.leaf_nodes()
    unknown = {app for app, _ in leaves} & project_apps() - set(PREVIOUS_RELEASE) - set(NEW_APPS)
    assert not unknown, (
        f"apps {sorted(unknown)} have migrations but are in neither PREVIOUS_RELEASE nor "
        "NEW_APPS: say where the previous release had them"
    )
    targets: list[tuple[str, str | None]] = [(app, None) for app in NEW_APPS]
    targets += [
        (app, PREVIOUS_RELEASE.get(app, name)) for app, name in leaves if app not in NEW_APPS
    ]
    return targets


def migrate(targets) -> tuple[MigrationExecutor, object]:
    """Migrate the test database to `targets` (a fresh executor each time, as
    `manage.py migrate` has); returns the executor, re-read, and the state."""
    executor = MigrationExecutor(connection)
    state = executor.migrate(targets)
    executor.loader.build_graph()
    return executor, state


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor, state = migrate(executor.loader.graph.leaf_nodes())
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    # Content types keep their ids through the rename; forget any cached one anyway.
    ContentType.objects.clear_cache()
    return executor, state


def post_migrate(apps) -> None:
    """What `manage.py migrate` does after the migrations: content types and
    permissions of every model in `apps` (the state it migrated to)."""
    emit_post_migrate_signal(0, False, DEFAULT_DB_ALIAS, apps=apps, plan=[])


@pytest.fixture
def previous_release(transactional_db):
    """The historical models of the previous release, on a test database
    migrated back to it; afterwards the latest migrations again (the tests
    after this one need them), whatever happened in between."""
    require_postgresql()
    try:
        executor = MigrationExecutor(connection)
        targets = previous_release_targets(executor)
        executor, _state = migrate(targets)
        nodes = [(app, name) for app, name in targets if name is not None]
        old = executor.loader.project_state(nodes).apps
        # The previous release's `manage.py migrate` made its content types.
        post_migrate(old)
        yield old
    finally:
        migrate_to_latest()


# --- What the database holds ----------------------------------------------------


def table_columns() -> dict[str, list[str]]:
    """Each table's columns, as the database has them now."""
    with connection.cursor() as cursor:
        return {
            table: [
                column.name
                for column in connection.introspection.get_table_description(cursor, table)
            ]
            for table in connection.introspection.table_names(cursor)
        }


def table_contents(columns: dict[str, list[str]] | None = None) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of all its rows (as text, sorted):
    of the given columns only, where given (a column added since is no change)."""
    contents = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table == MIGRATION_RECORDS:
                continue
            # A table name the database gave, quoted; its columns the same.
            name = connection.ops.quote_name(table)
            row = "t"
            if columns is not None and table in columns:
                quoted = ", ".join(f"t.{connection.ops.quote_name(c)}" for c in columns[table])
                row = f"ROW({quoted})"
            digest = f"md5(coalesce(string_agg({row}::text, E'\\n' ORDER BY {row}::text), ''))"
            cursor.execute(f"SELECT count(*), {digest} FROM {name} t")  # noqa: S608
            contents[table] = cursor.fetchone()
    return contents


def content_types() -> dict[int, tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, app_label, model FROM django_content_type")
        return {pk: (app_label, model) for pk, app_label, model in cursor.fetchall()}


def model_tables(apps) -> set[str]:
    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


# --- The previous release's data, through its own models ---------------------------


@dataclass(frozen=True)
class Seeded:
    """What the test wrote at the previous release and checks afterwards."""

    school_name: str
    teacher_id: int
    teacher_session: str
    principal_id: int
    principal_session: str
    card_id: int
    cells: dict[str, str]
    staff_id: int
    totp_id: int
    audit_event_id: int
    old_audit_event_id: int
    outbox_id: int
    mail_subject: str
    mail_to: str
    spent_token: str
    rate_scope: str
    rate_key: str
    notice_title: str
    material_slug: str
    material_file: str
    log_entry_id: int
    content_type_ids: dict[str, int]


def previous_cell_mac(*, user_id: int, serial: str, cell: str, value: str) -> str:
    """A cell's MAC as the previous release stored it (its `accounts.models.cell_mac`)."""
    message = f"{user_id}:{serial}:{cell}:{value}"
    return hmac.new(settings.MATRIX_CARD_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def previous_session(user, now: datetime.datetime, **extra) -> str:
    """A session as the previous release's login left it, encoded by the session store.

    The user's epoch is 0, so the login hash is Django's own, from the
    password hash (`accounts.User._get_session_auth_hash`).
    """
    assert user.session_epoch == 0
    stamp = int(now.timestamp())
    data = {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "accounts.backends.AccountBackend",
        HASH_SESSION_KEY: AbstractBaseUser._get_session_auth_hash(user),
        "accounts_login_at": stamp,
        "accounts_seen_at": stamp,
        "accounts_auth_at": stamp,
        **extra,
    }
    return SessionStore().encode(data)


def fill_previous_release(old, now: datetime.datetime) -> Seeded:
    """One row (at least) in every table of the previous release's schema."""
    model = old.get_model
    today = timezone.localdate(now)
    end_of_year = datetime.date(today.year + (today.month > 7), 7, 31)

    huvudman = model("schools", "Huvudman").objects.create(
        name="Förra kommunen",
        organisationsnummer="212000-0142",
        contact_name="Kim Kontakt",
        contact_email="kontakt@forra.se",
    )
    school = model("schools", "SchoolUnit").objects.create(
        code="31415926", name="Förra skolan", huvudman=huvudman
    )
    school.forms.add(model("schools", "SchoolForm").objects.get(code="grundskola"))
    subject = model("permissions", "Subject").objects.get(code="GRGRMAT01")

    people = model("accounts", "User").objects

    def person(username: str, role: str, **extra):
        return people.create(
            username=username,
            password=make_password(PASSWORD),
            role=role,
            first_name=username.capitalize(),
            last_name="Förrasson",
            email=f"{username}@forra.se",
            **extra,
        )

    admin = person("nationell", "national_admin", is_staff=True, is_superuser=True)
    staff = person("personal", "huvudman_staff", is_staff=True, huvudman=huvudman)
    principal = person("rektor", "principal")
    test_admin = person("provadmin", "test_admin")
    teacher = person("larare", "teacher")

    model("schools", "PrincipalAssignment").objects.create(user=principal, school_unit=school)
    model("permissions", "TestAdministrator").objects.create(
        user=test_admin, school_unit=school, valid_until=end_of_year
    )
    membership = model("permissions", "Membership").objects.create(
        user=teacher, school_unit=school, valid_until=end_of_year
    )
    model("permissions", "SubjectGrant").objects.create(membership=membership, subject=subject)
    model("permissions", "EmailCode").objects.create(
        user=teacher,
        purpose="confirm_membership",
        membership=membership,
        code_hash=hashlib.sha256(b"123456").hexdigest(),
        expires_at=now + datetime.timedelta(hours=1),
    )
    model("permissions", "ImportPreview").objects.create(
        token=secrets.token_urlsafe(32),
        school_unit=school,
        actor_id=principal.pk,
        text="förnamn;efternamn;e-post\nNy;Lärare;ny@forra.se\n",
        mode="add",
    )
    model("permissions", "ImportPickup").objects.create(
        school_unit=school,
        actor_id=principal.pk,
        sealed=seal(b'{"slips": []}', key=os.urandom(32), label="pickup"),
        rows=1,
    )

    events = model("permissions", "AuditEvent").objects
    audit_event = events.create(
        action="card_issued",
        actor_id=admin.pk,
        actor_username=admin.username,
        actor_role=admin.role,
        huvudman=huvudman,
        school_unit=school,
        target=principal.username,
        ip_address="203.0.113.5",
        details={"serial": "FORR-A234", "replaced": []},
    )
    # Old enough for the retention purge, which the trigger must still let through.
    old_audit_event = events.create(
        action="login_succeeded",
        created_at=now - datetime.timedelta(days=3 * 366),
        actor_id=teacher.pk,
        actor_username=teacher.username,
        actor_role=teacher.role,
        details={"factor": "password"},
    )

    # The outbox sealed as the previous release did (accounts/mail.py: key
    # purpose "outbox", the row's kind "message" bound in).
    mail_subject, mail_to = "Ditt konto i förra versionen", "larare@forra.se"
    content = {
        "subject": mail_subject,
        "body": "Hej! Ett brev som väntade under driftsättningen.",
        "to": [mail_to],
        "reply_to": [],
        "attachments": [],
    }
    outbox = model("accounts", "OutboxMessage").objects.create(
        kind="message",
        payload=seal(json.dumps(content).encode(), key=derived_key("outbox"), label="message"),
        next_attempt_at=now - datetime.timedelta(minutes=1),
    )
    spent_token = secrets.token_urlsafe(16)
    model("accounts", "SpentFormToken").objects.create(user=teacher, token=spent_token)

    rate_scope, rate_key = "support", "addr:203.0.113.7"
    model("portal", "RateLimitHit").objects.create(scope=rate_scope, key=rate_key)
    notice_title = "Planerat underhåll, meddelat i förra versionen"
    model("portal", "SiteNotice").objects.create(
        title=notice_title,
        body="Tjänsten kan vara otillgänglig en stund.",
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=1),
    )
    ticket = model("portal", "SupportTicket").objects.create(
        category="login",
        name="Lärare Förrasson",
        email="larare@forra.se",
        subject="Kommer inte in",
        message="Mitt lösenord fungerar inte.",
        client_address="203.0.113.9",
        status="in_progress",
        assigned_to=admin,
    )
    model("portal", "SupportTicketEntry").objects.create(
        ticket=ticket, actor_username=admin.username, kind="assigned", text=admin.username
    )
    material_slug, material_file = "np-matematik-ak6", "material/2026/np-matematik-ak6.pdf"
    model("portal", "Material").objects.create(
        title="Nationellt prov i matematik, åk 6",
        slug=material_slug,
        subject=subject,
        level="grundskola",
        kind="nationellt_prov",
        is_protected=True,
        protection_reason="provsekretess",
        file=material_file,
    )

    # A matrix card with known cells, kept only as MACs.
    cells = {
        cell: CARD_ALPHABET[index % 32] + CARD_ALPHABET[(index * 7 + 3) % 32]
        for index, cell in enumerate(CARD_CELLS)
    }
    serial = "FORR-A234"
    card = model("accounts", "MatrixCardDevice").objects.create(
        user=principal,
        name="Matriskort",
        confirmed=True,
        serial=serial,
        issued_on=today,
        cell_macs={
            cell: previous_cell_mac(user_id=principal.pk, serial=serial, cell=cell, value=value)
            for cell, value in cells.items()
        },
    )
    totp = model("otp_totp", "TOTPDevice").objects.create(
        user=admin, name="Telefon", confirmed=True
    )
    model("accounts", "PasswordFailure").objects.create(username="rektor", address="203.0.113.8")
    model("accounts", "ThrottleBurst").objects.create(
        key="password:rektor",
        reason="username",
        target="rektor",
        door="etjanster",
        address="203.0.113.8",
        school_unit=school,
        huvudman=huvudman,
        started_at=now - datetime.timedelta(minutes=5),
        last_at=now,
        count=3,
    )

    # Logged in while the deploy runs: a teacher in Bedömningsportalen, a
    # principal in E-tjänster past the card.
    sessions = model("accounts", "Session").objects
    expires = now + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    teacher_session = sessions.create(
        session_key=secrets.token_hex(16),
        session_data=previous_session(teacher, now),
        expire_date=expires,
        user_id=teacher.pk,
    )
    principal_session = sessions.create(
        session_key=secrets.token_hex(16),
        session_data=previous_session(
            principal, now, **{DEVICE_ID_SESSION_KEY: f"accounts.matrixcarddevice/{card.pk}"}
        ),
        expire_date=expires,
        user_id=principal.pk,
        card_device_id=card.pk,
    )
    # Django's own session table (unused since accounts.Session, still there).
    model("sessions", "Session").objects.create(
        session_key=secrets.token_hex(16),
        session_data=SessionStore().encode({}),
        expire_date=expires,
    )

    # Permissions of moved models: one given to the person, one through a group.
    cts = model("contenttypes", "ContentType").objects
    content_type_ids = {
        name: cts.get(app_label=app, model=name).pk for name, (app, _) in MOVED.items()
    }
    permissions = model("auth", "Permission").objects
    group = model("auth", "Group").objects.create(name="Granskare")
    group.permissions.add(
        permissions.get(content_type__app_label="permissions", codename="view_auditevent")
    )
    staff.groups.add(group)
    staff.user_permissions.add(
        permissions.get(content_type__app_label="accounts", codename="view_outboxmessage")
    )
    log_entry = model("admin", "LogEntry").objects.create(
        user=admin,
        content_type_id=content_type_ids["outboxmessage"],
        object_id=str(outbox.pk),
        object_repr=f"message #{outbox.pk}",
        action_flag=2,
        change_message="[]",
    )

    return Seeded(
        school_name=school.name,
        teacher_id=teacher.pk,
        teacher_session=teacher_session.session_key,
        principal_id=principal.pk,
        principal_session=principal_session.session_key,
        card_id=card.pk,
        cells=cells,
        staff_id=staff.pk,
        totp_id=totp.pk,
        audit_event_id=audit_event.pk,
        old_audit_event_id=old_audit_event.pk,
        outbox_id=outbox.pk,
        mail_subject=mail_subject,
        mail_to=mail_to,
        spent_token=spent_token,
        rate_scope=rate_scope,
        rate_key=rate_key,
        notice_title=notice_title,
        material_slug=material_slug,
        material_file=material_file,
        log_entry_id=log_entry.pk,
        content_type_ids=content_type_ids,
    )


# --- The test ------------------------------------------------------------------


def test_a_database_of_the_previous_release_keeps_every_row_session_and_card(previous_release):
    old = previous_release

    # 1. The schema is the previous release's: one table per model it had.
    tables = set(connection.introspection.table_names()) - {MIGRATION_RECORDS}
    assert tables == model_tables(old)
    labels_then = {label for label, _ in content_types().values()}
    assert not labels_then & set(NEW_APPS), "migrating back left content types in the new apps"

    # 2. Every table of it holds rows.
    seeded = fill_previous_release(old, timezone.now())
    columns_before = table_columns()
    before = table_contents(columns_before)
    empty = sorted(table for table, (count, _) in before.items() if count == 0)
    assert not empty, f"tables of the previous release left empty: {empty}"
    types_before = content_types()

    # 3. The deploy: the migrations, then (below) post_migrate.
    _executor, state = migrate_to_latest()
    after = table_contents(columns_before)

    # Every row is still there, unchanged; only the moved models' content
    # types changed, to their new app, keeping their ids. The tables of an
    # app the previous release did not have start empty.
    added = {t: n for t, (n, _) in after.items() if t not in before}
    assert all(n == 0 for n in added.values()), added
    assert {t: n for t, (n, _) in after.items() if t in before} == {
        t: n for t, (n, _) in before.items()
    }
    changed = sorted(
        table
        for table in before
        if before[table][1] != after[table][1] and table != "django_content_type"
    )
    assert not changed, f"rows changed by the migrations in {changed}"
    renamed = {
        pk: ((MOVED[model][1], model) if MOVED.get(model, ("",))[0] == app else (app, model))
        for pk, (app, model) in types_before.items()
    }
    assert content_types() == renamed

    # The current models read every table, every column, every row.
    assert set(after) == model_tables(django_apps)
    for current in django_apps.get_models(include_auto_created=True):
        if current._meta.managed and not current._meta.proxy:
            rows = list(current._base_manager.all())
            assert len(rows) == after[current._meta.db_table][0], current._meta.label

    post_migrate(state.apps)
    for name, (app_then, app_now) in MOVED.items():
        found = list(ContentType.objects.filter(model=name).values_list("pk", "app_label"))
        assert found == [(seeded.content_type_ids[name], app_now)], (name, app_then, found)
    assert (
        ContentType.objects.get_for_model(OutboxMessage).pk
        == seeded.content_type_ids["outboxmessage"]
    )
    staff = User.objects.get(pk=seeded.staff_id)
    assert staff.has_perm("core.view_outboxmessage")
    assert staff.has_perm("audit.view_auditevent")
    assert LogEntry.objects.get(pk=seeded.log_entry_id).get_edited_object().pk == seeded.outbox_id

    # The audit log: readable in its new app, and still append-only in the
    # database, but for the retention purge.
    event = AuditEvent.objects.select_related("school_unit").get(pk=seeded.audit_event_id)
    assert (event.action, event.target, event.school_unit.name, event.details) == (
        "card_issued",
        "rektor",
        seeded.school_name,
        {"serial": "FORR-A234", "replaced": []},
    )
    for sql in (
        "UPDATE permissions_auditevent SET target = 'x' WHERE id = %s",
        "DELETE FROM permissions_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert audit_purge(years=2).deleted == 1
    assert not AuditEvent.objects.filter(pk=seeded.old_audit_event_id).exists()
    assert AuditEvent.objects.get(pk=event.pk).target == "rektor"

    # The teacher logged in before the deploy is still logged in after it.
    data = SessionStore(seeded.teacher_session).load()
    assert data[SESSION_KEY] == str(seeded.teacher_id)
    request = RequestFactory().get("/")
    request.session = SessionStore(seeded.teacher_session)
    assert get_user(request).pk == seeded.teacher_id
    teacher_browser = Client()
    teacher_browser.cookies[settings.SESSION_COOKIE_NAME] = seeded.teacher_session
    page = teacher_browser.get(reverse("portal:account"))
    assert page.status_code == 200
    assert page.wsgi_request.user.pk == seeded.teacher_id
    assert seeded.school_name in page.content.decode()
    assert Membership.objects.get(user_id=seeded.teacher_id).subjects.get().code == "GRGRMAT01"

    # So is the principal, past the card, in E-tjänster.
    principal_browser = Client()
    principal_browser.cookies[settings.SESSION_COOKIE_NAME] = seeded.principal_session
    page = principal_browser.get(reverse("etjanster:etjanster_home"))
    assert page.status_code == 200
    assert page.wsgi_request.user.pk == seeded.principal_id
    assert page.wsgi_request.user.otp_device.pk == seeded.card_id

    # The card still opens with its printed cells.
    principal = User.objects.get(pk=seeded.principal_id)
    asked = card_challenge(user=principal)
    answer = card_answer(
        user=principal,
        answers={cell: seeded.cells[cell] for cell in asked},
        context=AuditContext.system(),
    )
    assert answer.outcome == AnswerOutcome.ACCEPTED
    assert answer.device.pk == seeded.card_id
    assert isinstance(answer.device, MatrixCardDevice)

    # The admin's authenticator app still gives valid codes.
    totp = TOTPDevice.objects.get(pk=seeded.totp_id)
    code = TOTP(totp.bin_key, totp.step, totp.t0, totp.digits, totp.drift).token()
    assert totp.verify_token(f"{code:0{totp.digits}d}")

    # The mail queued before the deploy is unsealed and sent after it.
    mail.outbox = []
    report = outbox_send_due()
    assert (report.sent, report.failed) == (1, 0)
    assert [(message.subject, message.to) for message in mail.outbox] == [
        (seeded.mail_subject, [seeded.mail_to])
    ]
    assert OutboxMessage.objects.get(pk=seeded.outbox_id).status == "sent"

    # The site notice is on the start page.
    start_page = Client().get(reverse("home"))
    assert start_page.status_code == 200
    assert seeded.notice_title in start_page.content.decode()
    assert SiteNotice.objects.get().title == seeded.notice_title

    # The rate-limit hit counts: a limit of one is full, a limit of two is not.
    assert rate_limit_full(scope=seeded.rate_scope, keys={seeded.rate_key: 1}) == [seeded.rate_key]
    assert not rate_limit_hit(scope=seeded.rate_scope, keys={seeded.rate_key: 1})
    assert rate_limit_hit(scope=seeded.rate_scope, keys={seeded.rate_key: 2})

    # A spent form token stays spent.
    with pytest.raises(IntegrityError), transaction.atomic():
        SpentFormToken.objects.create(user_id=seeded.teacher_id, token=seeded.spent_token)

    # Material and the support desk read as before.
    material = Material.objects.get(slug=seeded.material_slug)
    assert (material.file.name, material.subject.code) == (seeded.material_file, "GRGRMAT01")
    ticket = SupportTicket.objects.get()
    assert (ticket.status, ticket.assigned_to.username, ticket.entries.count()) == (
        "in_progress",
        "nationell",
        1,
    )
