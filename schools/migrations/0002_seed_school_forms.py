from django.db import migrations

SCHOOL_FORMS = [
    "grundskola",
    "anpassad_grundskola",
    "specialskola",
    "sameskola",
    "gymnasieskola",
    "anpassad_gymnasieskola",
    "introduktionsprogram",
    "kommunal_vuxenutbildning",
]


def seed(apps, schema_editor):
    SchoolForm = apps.get_model("schools", "SchoolForm")
    for code in SCHOOL_FORMS:
        SchoolForm.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("schools", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
