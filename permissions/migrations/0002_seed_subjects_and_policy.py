"""The subject catalogue and today's access-policy rule.

Grundskola subjects carry Skolverket's syllabus codes (GRGR…01, Lgr22);
gymnasieskola subjects their ämneskod (Gy11/Gy25).
"""

from django.db import migrations

GRUNDSKOLA = [
    ("GRGRBIL01", "Bild"),
    ("GRGRBIO01", "Biologi"),
    ("GRGRENG01", "Engelska"),
    ("GRGRFYS01", "Fysik"),
    ("GRGRGEO01", "Geografi"),
    ("GRGRHKK01", "Hem- och konsumentkunskap"),
    ("GRGRHIS01", "Historia"),
    ("GRGRIDR01", "Idrott och hälsa"),
    ("GRGRKEM01", "Kemi"),
    ("GRGRMAT01", "Matematik"),
    ("GRGRMLM01", "Modersmål"),
    ("GRGRMSP01", "Moderna språk"),
    ("GRGRMUS01", "Musik"),
    ("GRGRREL01", "Religionskunskap"),
    ("GRGRSAM01", "Samhällskunskap"),
    ("GRGRSLJ01", "Slöjd"),
    ("GRGRSVE01", "Svenska"),
    ("GRGRSVA01", "Svenska som andraspråk"),
    ("GRGRTEK01", "Teknik"),
    ("GRGRTSP01", "Teckenspråk för hörande"),
]

GYMNASIESKOLA = [
    ("BIO", "Biologi"),
    ("ENG", "Engelska"),
    ("FIL", "Filosofi"),
    ("FYS", "Fysik"),
    ("FOR", "Företagsekonomi"),
    ("GEO", "Geografi"),
    ("HIS", "Historia"),
    ("IDR", "Idrott och hälsa"),
    ("KEM", "Kemi"),
    ("MAT", "Matematik"),
    ("MOD", "Moderna språk"),
    ("MOE", "Modersmål"),
    ("NAK", "Naturkunskap"),
    ("PRR", "Programmering"),
    ("PSK", "Psykologi"),
    ("REL", "Religionskunskap"),
    ("SAM", "Samhällskunskap"),
    ("SVE", "Svenska"),
    ("SVA", "Svenska som andraspråk"),
    ("TEK", "Teknik"),
]

POLICY = {
    "grundskola": ["grundskola"],
    "anpassad_grundskola": ["grundskola"],
    "specialskola": ["grundskola"],
    "sameskola": ["grundskola"],
    "gymnasieskola": ["gymnasial"],
    "anpassad_gymnasieskola": ["gymnasial"],
    "introduktionsprogram": ["gymnasial"],
    "kommunal_vuxenutbildning": ["gymnasial"],
}


def seed(apps, schema_editor):
    Subject = apps.get_model("permissions", "Subject")
    LevelPolicy = apps.get_model("permissions", "LevelPolicy")
    for code, name in GRUNDSKOLA:
        Subject.objects.update_or_create(code=code, defaults={"name": name, "level": "grundskola"})
    for code, name in GYMNASIESKOLA:
        Subject.objects.update_or_create(code=code, defaults={"name": name, "level": "gymnasial"})
    for form, levels in POLICY.items():
        for level in levels:
            LevelPolicy.objects.get_or_create(school_form_id=form, level=level)


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0001_initial"),
        ("schools", "0002_seed_school_forms"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
