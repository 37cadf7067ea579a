"""Pulling a source into the mirror, a page at a time (constant memory:
each page is written with one upsert and dropped).

Called inside the sync's transaction: a fault anywhere rolls the whole pull
back. Only what the gate needs is kept: the organisations with a
skolenhetskod of ours, every duty there, the persons those teaching duties
name (never pupils, never a civic number), the activities' teachers and
subject codes.
"""

import datetime
from collections.abc import Iterable, Iterator

from provisioning.client import Client
from provisioning.models import (
    MirroredActivity,
    MirroredDuty,
    MirroredOrganisation,
    MirroredPerson,
    Source,
)
from schools.models import SchoolUnit

BATCH = 500
# The e-mail the gate uses: the school's own address for its staff, never a private one.
SCHOOL_EMAIL_TYPES = ("Skola personal", "Arbete övrigt")


def _ref(value) -> str:
    if isinstance(value, dict) and value.get("id") is not None:
        return str(value["id"])[:100]
    return ""


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def school_email(person: dict) -> str:
    emails = person.get("emails") if isinstance(person.get("emails"), list) else []
    for wanted in SCHOOL_EMAIL_TYPES:
        for email in emails:
            if isinstance(email, dict) and email.get("type") == wanted and email.get("value"):
                return str(email["value"]).strip()[:254]
    return ""


def pull(*, source: Source, client: Client, since: datetime.datetime | None) -> None:
    """Bring the mirror up to what the source says now; `since` None is a full
    pull (whatever the source no longer lists counts as deleted)."""
    _organisations(source=source, client=client)
    our_orgs = set(
        MirroredOrganisation.objects.filter(source=source).values_list("ext_id", flat=True)
    )
    if since is None:
        MirroredDuty.objects.filter(source=source).update(deleted=True)
        MirroredActivity.objects.filter(source=source).update(deleted=True)
    _duties(source=source, client=client, since=since, our_orgs=our_orgs)
    _activities(source=source, client=client, since=since)
    _persons(source=source, client=client, since=since)
    if since is not None:
        _deleted(source=source, client=client, since=since)


def _organisations(*, source: Source, client: Client) -> None:
    codes = set(
        SchoolUnit.objects.filter(huvudman_id=source.huvudman_id).values_list("code", flat=True)
    )
    seen = []
    for batch in _batches(client.items("organisations")):
        rows = [
            MirroredOrganisation(
                source=source,
                ext_id=_ref(item),
                school_unit_code=str(item.get("schoolUnitCode") or "")[:20],
                display_name=str(item.get("displayName") or "")[:200],
            )
            for item in batch
            if _ref(item) and str(item.get("schoolUnitCode") or "") in codes
        ]
        seen += [row.ext_id for row in rows]
        MirroredOrganisation.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["source", "ext_id"],
            update_fields=["school_unit_code", "display_name"],
        )
    MirroredOrganisation.objects.filter(source=source).exclude(ext_id__in=seen).delete()


def _duties(*, source, client, since, our_orgs: set[str]) -> None:
    for batch in _batches(client.items("duties", modified_after=since)):
        rows, elsewhere = [], []
        for item in batch:
            organisation = _ref(item.get("dutyAt"))
            if not _ref(item) or organisation not in our_orgs:
                # Another huvudman's or a unit we do not have: ignored (and
                # ended here, if it was at one of ours before).
                elsewhere.append(_ref(item))
                continue
            rows.append(
                MirroredDuty(
                    source=source,
                    ext_id=_ref(item),
                    person_id=_ref(item.get("person")),
                    organisation_id=organisation,
                    role=str(item.get("dutyRole") or "")[:100],
                    start_date=_date(item.get("startDate")),
                    end_date=_date(item.get("endDate")),
                    deleted=False,
                )
            )
        MirroredDuty.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["source", "ext_id"],
            update_fields=["person_id", "organisation_id", "role", "start_date", "end_date"]
            + ["deleted"],
        )
        if since is not None and elsewhere:
            MirroredDuty.objects.filter(source=source, ext_id__in=elsewhere).update(deleted=True)


def _activities(*, source, client, since) -> None:
    syllabuses: dict[str, str] | None = None
    for batch in _batches(client.items("activities", modified_after=since)):
        rows = []
        for item in batch:
            teachers = item.get("teachers") if isinstance(item.get("teachers"), list) else []
            duty_ids = sorted({_ref(t.get("duty")) for t in teachers if isinstance(t, dict)} - {""})
            syllabus = item.get("syllabus") if isinstance(item.get("syllabus"), dict) else {}
            code = str(syllabus.get("subjectCode") or "")
            if not code and _ref(syllabus):
                if syllabuses is None:
                    syllabuses = _syllabuses(client)
                code = syllabuses.get(_ref(syllabus), "")
            if _ref(item) and duty_ids:
                rows.append(
                    MirroredActivity(
                        source=source,
                        ext_id=_ref(item),
                        subject_code=code.strip().upper()[:20],
                        duty_ids=duty_ids,
                        deleted=False,
                    )
                )
        MirroredActivity.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["source", "ext_id"],
            update_fields=["subject_code", "duty_ids", "deleted"],
        )


def _syllabuses(client: Client) -> dict[str, str]:
    """Syllabus id to subject code, for activities that name their syllabus by id only."""
    return {
        _ref(item): str(item.get("subjectCode") or "")
        for item in client.items("syllabuses")
        if _ref(item)
    }


def _persons(*, source, client, since) -> None:
    """Only the persons the huvudman's teaching duties name (pupils and other
    staff are read past, never stored)."""
    wanted = set(
        MirroredDuty.objects.filter(source=source, role__in=source.teaching_roles).values_list(
            "person_id", flat=True
        )
    )
    known = set(MirroredPerson.objects.filter(source=source).values_list("ext_id", flat=True))
    # A new duty of a person the mirror lacks: that person may be unchanged
    # at the source, so every person is read (and all but the wanted passed by).
    since = since if wanted <= known else None
    for batch in _batches(client.items("persons", modified_after=since)):
        rows = [
            MirroredPerson(
                source=source,
                ext_id=_ref(item),
                given_name=str(item.get("givenName") or "").strip()[:150],
                family_name=str(item.get("familyName") or "").strip()[:150],
                email=school_email(item),
            )
            for item in batch
            if _ref(item) in wanted
        ]
        MirroredPerson.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["source", "ext_id"],
            update_fields=["given_name", "family_name", "email"],
        )


def _deleted(*, source, client, since) -> None:
    deleted = client.deleted(after=since)

    def ids(*names):
        return set().union(*(deleted.get(name, set()) for name in names))

    persons = ids("person", "persons")
    MirroredDuty.objects.filter(source=source, ext_id__in=ids("duty", "duties")).update(
        deleted=True
    )
    MirroredDuty.objects.filter(source=source, person_id__in=persons).update(deleted=True)
    MirroredActivity.objects.filter(source=source, ext_id__in=ids("activity", "activities")).update(
        deleted=True
    )
