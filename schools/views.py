from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import etjanster_required
from permissions.policy import etjanster_school_units
from permissions.schoolyear import school_year_label, today


@etjanster_required
def etjanster_home(request: HttpRequest) -> HttpResponse:
    day = today()
    school_units = etjanster_school_units(user=request.user, today=day)
    return render(
        request,
        "schools/etjanster_home.html",
        {"school_units": school_units, "school_year": school_year_label(day)},
    )
