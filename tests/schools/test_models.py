import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from backoffice.forms import HuvudmanForm
from schools.models import SchoolUnit
from schools.validators import normalize_organisationsnummer, validate_organisationsnummer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["1234567", "123456789", "1234567a", "abcdefgh", ""])
def test_malformed_skolenhetskod_is_refused_by_validation(huvudman, code):
    unit = SchoolUnit(code=code, name="Felskolan", huvudman=huvudman)
    with pytest.raises(ValidationError) as error:
        unit.full_clean()
    assert "code" in error.value.message_dict


@pytest.mark.parametrize("code", ["1234567", "1234567a"])
def test_malformed_skolenhetskod_is_refused_by_the_database(huvudman, code):
    with pytest.raises(IntegrityError), transaction.atomic():
        SchoolUnit.objects.create(code=code, name="Felskolan", huvudman=huvudman)


def test_duplicate_skolenhetskod_is_refused(grundskola, huvudman):
    with pytest.raises(IntegrityError), transaction.atomic():
        SchoolUnit.objects.create(code=grundskola.code, name="Kopian", huvudman=huvudman)


def test_organisationsnummer_with_wrong_check_digit_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_organisationsnummer("212000-0143")
    assert error.value.code == "check_digit"


def test_organisationsnummer_with_right_check_digit_is_accepted():
    validate_organisationsnummer("212000-0142")
    validate_organisationsnummer("556036-0793")


def test_organisationsnummer_is_normalized_from_common_spellings():
    assert normalize_organisationsnummer("2120000142") == "212000-0142"
    assert normalize_organisationsnummer("16212000-0142") == "212000-0142"
    assert normalize_organisationsnummer(" 212000 0142 ") == "212000-0142"


def test_huvudman_form_gives_swedish_message_for_bad_check_digit():
    form = HuvudmanForm(data={"name": "Fel AB", "organisationsnummer": "2120000143"})
    assert not form.is_valid()
    assert form.errors["organisationsnummer"] == [
        "Organisationsnumrets kontrollsiffra stämmer inte. Kontrollera numret."
    ]


def test_huvudman_form_saves_a_valid_huvudman_normalized():
    form = HuvudmanForm(data={"name": "Rätt AB", "organisationsnummer": "5560360793"})
    assert form.is_valid(), form.errors
    assert form.save().organisationsnummer == "556036-0793"
