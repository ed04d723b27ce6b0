"""Protected personal data: validation, encryption at rest, keyed lookup, masking."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from rencai.core import crypto
from rencai.core.fields import protected_match
from rencai.core.models import OrgUnit, Region
from rencai.core.validators import (
    id_birth_date,
    id_check_char,
    id_gender,
    mask_id_card,
    mask_mobile,
    validate_id_card,
    validate_mobile,
)


def make_id(prefix="140802", birth="19900307", seq="123"):
    first17 = prefix + birth + seq
    return first17 + id_check_char(first17)


class TestIdCardValidation:
    def test_it_accepts_a_valid_number_and_normalises_it(self):
        number = make_id(seq="001")  # check character happens to be whatever GB 11643 says
        assert validate_id_card(f" {number.lower()} ") == number

    def test_it_computes_the_gb11643_check_character(self):
        # A worked example of the standard: 11010519491231002 → X.
        assert id_check_char("11010519491231002") == "X"
        assert validate_id_card("11010519491231002X") == "11010519491231002X"

    def test_it_names_a_wrong_check_digit(self):
        number = make_id()
        wrong = number[:17] + ("0" if number[17] != "0" else "1")
        with pytest.raises(ValidationError) as exc:
            validate_id_card(wrong)
        assert exc.value.code == "id_checksum" and number[17] in exc.value.messages[0]

    def test_it_rejects_fifteen_digit_legacy_numbers_with_a_reason(self):
        with pytest.raises(ValidationError) as exc:
            validate_id_card("140802900307123")
        assert exc.value.code == "legacy_id" and "15 位" in exc.value.messages[0]

    @pytest.mark.parametrize("birth", ["19900230", "19901301", "18991231"])
    def test_it_rejects_impossible_birth_dates(self, birth):
        with pytest.raises(ValidationError) as exc:
            validate_id_card(make_id(birth=birth))
        assert exc.value.code == "id_birth"

    def test_it_rejects_a_future_birth_date(self):
        future = (dt.date.today() + dt.timedelta(days=400)).strftime("%Y%m%d")
        with pytest.raises(ValidationError):
            validate_id_card(make_id(birth=future))

    def test_it_rejects_an_unknown_province_prefix(self):
        with pytest.raises(ValidationError) as exc:
            validate_id_card(make_id(prefix="990802"))
        assert exc.value.code == "id_region"

    def test_it_reads_birth_date_and_gender(self):
        number = make_id(birth="19851231", seq="013")
        assert id_birth_date(number) == dt.date(1985, 12, 31)
        assert id_gender(number) == "male"
        assert id_gender(make_id(seq="024")) == "female"

    def test_it_accepts_full_width_digits(self):
        number = make_id()
        full_width = "".join(chr(0xFF10 + int(c)) if c.isdigit() else "Ｘ" for c in number)
        assert validate_id_card(full_width) == number


class TestMobile:
    @pytest.mark.parametrize("raw", ["13812345678", "+86 138 1234 5678", "138-1234-5678", "008613812345678"])
    def test_it_normalises(self, raw):
        assert validate_mobile(raw) == "13812345678"

    @pytest.mark.parametrize("raw", ["1381234567", "23812345678", "12812345678", "0351-1234567"])
    def test_it_rejects(self, raw):
        with pytest.raises(ValidationError):
            validate_mobile(raw)


def test_masks():
    assert mask_id_card("140802199003071234") == "140802********1234"
    assert mask_mobile("13812345678") == "138****5678"


@pytest.mark.django_db
class TestEncryptedStorage:
    def _unit(self, mobile="13812345678", name="盐湖区人才办"):
        region = Region.objects.get(code="140802")
        return OrgUnit.objects.create(name=name, region=region, contact_mobile=mobile)

    def test_it_stores_ciphertext_and_reads_back_plaintext(self, refdata):
        unit = self._unit()
        with connection.cursor() as cursor:
            cursor.execute("SELECT contact_mobile, contact_mobile_hash FROM core_orgunit WHERE id = %s", [unit.pk])
            stored, digest = cursor.fetchone()
        assert stored.startswith(crypto.CIPHER_PREFIX) and "13812345678" not in stored
        assert len(digest) == 64 and "13812345678" not in digest
        assert OrgUnit.objects.get(pk=unit.pk).contact_mobile == "13812345678"

    def test_two_encryptions_of_one_value_differ(self, refdata):
        a = self._unit(name="甲")
        b = self._unit(name="乙")
        with connection.cursor() as cursor:
            cursor.execute("SELECT contact_mobile FROM core_orgunit WHERE id IN (%s, %s)", [a.pk, b.pk])
            first, second = (row[0] for row in cursor.fetchall())
        assert first != second

    def test_it_finds_a_row_by_exact_value_in_any_spelling(self, refdata):
        unit = self._unit()
        self._unit(mobile="13900001111", name="其他")
        assert list(OrgUnit.objects.filter(protected_match(OrgUnit, "contact_mobile", "+86 138-1234-5678"))) == [unit]
        assert not OrgUnit.objects.filter(protected_match(OrgUnit, "contact_mobile", "13812345679")).exists()
        assert not OrgUnit.objects.filter(protected_match(OrgUnit, "contact_mobile", "not a number")).exists()

    def test_it_validates_on_full_clean(self, refdata):
        unit = OrgUnit(name="x", region=Region.objects.get(code="140802"), contact_mobile="12345")
        with pytest.raises(ValidationError) as exc:
            unit.full_clean()
        assert "contact_mobile" in exc.value.message_dict

    def test_a_tampered_ciphertext_is_refused(self, refdata):
        unit = self._unit()
        with connection.cursor() as cursor:
            cursor.execute("SELECT contact_mobile FROM core_orgunit WHERE id = %s", [unit.pk])
            stored = cursor.fetchone()[0]
            tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
            cursor.execute("UPDATE core_orgunit SET contact_mobile = %s WHERE id = %s", [tampered, unit.pk])
        with pytest.raises(crypto.DecryptionError):
            OrgUnit.objects.get(pk=unit.pk)
