"""Demo material for `seed_demo`: real PDFs generated with reportlab, idempotent by slug."""

import io

from django.core.files.base import ContentFile
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from permissions.models import MaterialLevel, Subject
from portal.models import Material, MaterialKind, ProtectionReason

# (slug, title, subject code, level, kind, protection reason or "" for open)
DEMO_MATERIAL = [
    (
        "matematik-ak3-bedomningsstod",
        "Bedömningsstöd i matematik, årskurs 3",
        "GRGRMAT01",
        MaterialLevel.GRUNDSKOLA,
        MaterialKind.BEDOMNINGSSTOD,
        "",
    ),
    (
        "matematik-ak9-np-2025",
        "Nationellt prov i matematik, årskurs 9, vt 2025",
        "GRGRMAT01",
        MaterialLevel.GRUNDSKOLA,
        MaterialKind.NATIONELLT_PROV,
        ProtectionReason.PROVSEKRETESS,
    ),
    (
        "engelska-ak6-np-2025",
        "Nationellt prov i engelska, årskurs 6, vt 2025",
        "GRGRENG01",
        MaterialLevel.GRUNDSKOLA,
        MaterialKind.NATIONELLT_PROV,
        ProtectionReason.PROVSEKRETESS,
    ),
    (
        "svenska-gy-diagnos",
        "Diagnostiskt material i svenska för gymnasieskolan",
        "SVE",
        MaterialLevel.GYMNASIAL,
        MaterialKind.DIAGNOSTISKT,
        "",
    ),
    (
        "matematik-1c-np-2024",
        "Nationellt prov i Matematik 1c, ht 2024",
        "MAT",
        MaterialLevel.GYMNASIAL,
        MaterialKind.NATIONELLT_PROV,
        ProtectionReason.PROVSEKRETESS,
    ),
]


def demo_pdf(*, title: str, subject: str, protected: bool) -> bytes:
    """A one-page A4 PDF that says what it is, so the demo download is real."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(title)
    pdf.setAuthor("Behörighetsportalen (demo)")
    width, height = A4
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(20 * mm, height - 30 * mm, title)
    pdf.setFont("Helvetica", 12)
    pdf.drawString(20 * mm, height - 42 * mm, f"Ämne: {subject}")
    status = "Skyddat material – sprid inte filen." if protected else "Öppet material."
    pdf.drawString(20 * mm, height - 50 * mm, status)
    pdf.drawString(20 * mm, height - 62 * mm, "Demomaterial skapat av seed_demo.")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def seed_material() -> list[dict]:
    """Create or refresh the demo items; a file is generated only when missing."""
    seeded = []
    subjects = {s.code: s for s in Subject.objects.filter(code__in={m[2] for m in DEMO_MATERIAL})}
    for slug, title, code, level, kind, reason in DEMO_MATERIAL:
        material, _ = Material.objects.update_or_create(
            slug=slug,
            defaults={
                "title": title,
                "subject": subjects[code],
                "level": level,
                "kind": kind,
                "is_protected": bool(reason),
                "protection_reason": reason,
                "description": f"Demomaterial: {title}.",
            },
        )
        if not material.file or not material.file.storage.exists(material.file.name):
            content = demo_pdf(title=title, subject=subjects[code].name, protected=bool(reason))
            material.file.save(f"{slug}.pdf", ContentFile(content), save=True)
        seeded.append({"slug": slug, "title": title, "protected": bool(reason)})
    return seeded
