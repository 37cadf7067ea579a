"""Demo data for `seed_demo`: idempotent, keyed on stable natural keys."""

from schools.models import Huvudman, SchoolUnit

DEMO_HUVUDMAN = {
    "organisationsnummer": "212000-0142",
    "name": "Demo kommun",
    "contact_name": "Karin Demosson",
    "contact_email": "skolkontakt@demo-kommun.example",
    "contact_phone": "010-123 45 67",
}

DEMO_SCHOOLS = [
    ("10000001", "Demoskolan F–9", ["grundskola"]),
    ("10000002", "Demogymnasiet", ["gymnasieskola", "introduktionsprogram"]),
    ("10000003", "Demo Vux", ["kommunal_vuxenutbildning"]),
]


def seed_schools() -> tuple[Huvudman, list[SchoolUnit]]:
    huvudman, _ = Huvudman.objects.update_or_create(
        organisationsnummer=DEMO_HUVUDMAN["organisationsnummer"], defaults=DEMO_HUVUDMAN
    )
    units = []
    for code, name, forms in DEMO_SCHOOLS:
        unit, _ = SchoolUnit.objects.update_or_create(
            code=code, defaults={"name": name, "huvudman": huvudman}
        )
        unit.forms.set(forms)
        units.append(unit)
    return huvudman, units
