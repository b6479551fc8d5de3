"""统一社会信用代码 validation, normalisation and generation (registry.core.uscc)."""

from __future__ import annotations

import pickle
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.core.uscc import (
    CHARSET,
    WEIGHTS_18,
    UsccError,
    check_char_17,
    check_char_18,
    division_code_of,
    is_valid_uscc,
    make_uscc,
    normalize_uscc,
)

# Real codes. The first two are from the task brief; the others are widely published codes of
# large companies that pass both check characters (a random string passes both with odds ~1/341).
REAL_VALID = [
    "91350200MA2YJ1XR9G",
    "914403001922038216",
    "91330100716105852F",
    "91440300708461136T",
    "91110108551385082Q",
]
REAL_BAD_18 = "91350203M0001QAY9B"  # position 17 is right ('9'); position 18 should be '9', not 'B'

FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}

SETTINGS = settings(max_examples=200, deadline=None, database=None)  # no .hypothesis/ in the tree

divisions = st.from_regex(r"\A[0-9]{6}\Z", fullmatch=True)
serials = st.integers(min_value=0, max_value=31**6 - 1)
charset_chars = st.sampled_from(CHARSET)


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    return make_uscc(
        draw(divisions),
        draw(serials),
        registration_dept=draw(charset_chars),
        org_category=draw(charset_chars),
    )


# ---------------------------------------------------------------- the published algorithm


def test_weights_are_powers_of_three_mod_31():
    assert list(WEIGHTS_18) == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def test_charset_has_31_characters_without_confusables():
    assert len(CHARSET) == 31 == len(set(CHARSET))
    assert not set("IOZSV") & set(CHARSET)


@pytest.mark.parametrize("code", REAL_VALID)
def test_real_codes_are_valid(code):
    assert check_char_17(code[8:16]) == code[16]
    assert check_char_18(code[:17]) == code[17]
    assert is_valid_uscc(code)
    assert normalize_uscc(code) == code


def test_real_ma_code_passes_both_checks():
    code = "91350200MA2YJ1XR9G"
    assert check_char_17("MA2YJ1XR") == "9"
    assert check_char_18("91350200MA2YJ1XR9") == "G"
    assert division_code_of(code) == "350200"


def test_real_code_with_bad_18th_character():
    assert check_char_17(REAL_BAD_18[8:16]) == REAL_BAD_18[16]  # the organisation code is fine
    assert check_char_18(REAL_BAD_18[:17]) == "9"
    assert not is_valid_uscc(REAL_BAD_18)
    with pytest.raises(UsccError) as info:
        normalize_uscc(REAL_BAD_18)
    err = info.value
    assert err.code == "check_18"
    assert err.position == 18
    assert err.expected == "9"
    assert "position 18" in str(err) and "'B'" in str(err) and "'9'" in str(err)


def test_check_17_edge_values():
    assert check_char_17("00000000") == "0"  # sum 0 -> 11 - 0 = 11 -> '0'
    assert check_char_17("00000006") == "X"  # sum 12, 12 mod 11 = 1 -> 10 -> 'X'
    assert check_char_17("00000001") == "9"  # sum 2 -> 9
    for body in ["MA2YJ1XR", "ZZZZZZZZ", "IOSV0000", "12345678"]:
        values = [int(c, 36) for c in body]  # 0-9, A=10 ... Z=35
        total = sum(v * w for v, w in zip(values, [3, 7, 9, 10, 5, 8, 4, 2], strict=True))
        expected = {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
        assert check_char_17(body) == expected


def test_check_18_zero_when_sum_divisible():
    assert check_char_18("0" * 17) == "0"


def test_letters_outside_uscc_charset_are_fine_in_a_bare_gb11714_body():
    # GB 11714 on its own uses the full alphabet; I, O, S, V, Z only fail inside a USCC.
    assert check_char_17("IOSVZ000") in "0123456789X"


# ---------------------------------------------------------------- generator


@SETTINGS
@given(valid_codes())
def test_every_generated_code_is_valid(code):
    assert is_valid_uscc(code)
    assert normalize_uscc(code) == code


@SETTINGS
@given(divisions, serials)
def test_generator_is_deterministic_and_keeps_division(division, serial):
    code = make_uscc(division, serial)
    assert code == make_uscc(division, serial)
    assert code[:2] == "91"
    assert code[2:8] == division == division_code_of(code)
    assert code[8:10] == "MA"


@SETTINGS
@given(divisions, serials, serials)
def test_generator_distinct_serials_give_distinct_codes(division, a, b):
    if a != b:
        assert make_uscc(division, a) != make_uscc(division, b)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("35010", 1), "division_code"),
        (("3501O2", 1), "division_code"),
        (("350102", -1), "serial"),
        (("350102", 31**6), "serial"),
        (("350102", 1, "I"), "registration_dept"),
        (("350102", 1, "9", "s"), "org_category"),
    ],
)
def test_generator_rejects_bad_arguments(args, fragment):
    with pytest.raises(ValueError, match=fragment):
        make_uscc(*args)


# ---------------------------------------------------------------- single-character errors


@SETTINGS
@given(valid_codes(), st.integers(min_value=0, max_value=17), charset_chars)
def test_any_single_substitution_is_detected(code, index, replacement):
    if code[index] == replacement:
        replacement = CHARSET[(CHARSET.index(replacement) + 1) % 31]
    mutated = code[:index] + replacement + code[index + 1 :]
    assert not is_valid_uscc(mutated)
    with pytest.raises(UsccError) as info:
        normalize_uscc(mutated)
    position = index + 1
    if 3 <= position <= 8:
        assert info.value.code in {"division", "check_18"}
    elif 9 <= position <= 16:
        assert info.value.code in {"check_17", "check_18"}
    elif position == 17:
        assert info.value.code == "check_17"
    else:
        assert info.value.code == "check_18"


@SETTINGS
@given(valid_codes(), charset_chars)
def test_changing_position_18_always_fails_check_18(code, replacement):
    if code[17] == replacement:
        replacement = CHARSET[(CHARSET.index(replacement) + 1) % 31]
    with pytest.raises(UsccError) as info:
        normalize_uscc(code[:17] + replacement)
    assert info.value.code == "check_18"
    assert info.value.expected == code[17]


@SETTINGS
@given(valid_codes(), st.integers(min_value=0, max_value=16))
def test_adjacent_transposition_is_detected(code, index):
    swapped = code[:index] + code[index + 1] + code[index] + code[index + 2 :]
    if swapped != code:
        assert not is_valid_uscc(swapped)


# ---------------------------------------------------------------- normalisation

edge_space = st.sampled_from([" ", "\t", "\u3000", "\u00a0", "\n", "\ufeff", "\u200b", "\r\n"])


@SETTINGS
@given(
    valid_codes(),
    st.lists(st.booleans(), min_size=18, max_size=18),
    st.booleans(),
    st.lists(edge_space, max_size=3),
    st.lists(edge_space, max_size=3),
)
def test_full_width_lower_case_and_padding_normalise(code, widen, lower, before, after):
    variant = "".join(FULL_WIDTH[c] if w else c for c, w in zip(code, widen, strict=True))
    if lower:
        variant = variant.lower()
    padded = "".join(before) + variant + "".join(after)
    assert normalize_uscc(padded) == code
    if padded != code:
        assert not is_valid_uscc(padded)  # the strict check does not normalise


def test_full_width_example():
    assert normalize_uscc("\u3000９１３５０２００ｍａ２ｙｊ１ｘｒ９ｇ\u00a0") == "91350200MA2YJ1XR9G"


@pytest.mark.parametrize("space", [" ", "\u3000", "\u00a0", "\t"])
def test_inner_white_space_is_rejected_not_removed(space):
    raw = "913502" + space + "00MA2YJ1XR9G"
    with pytest.raises(UsccError) as info:
        normalize_uscc(raw)
    assert info.value.code == "whitespace"
    assert info.value.position == 7
    assert "position 7" in str(info.value)


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", "\ufeff", None])
def test_empty_is_rejected(raw):
    with pytest.raises(UsccError) as info:
        normalize_uscc(raw)
    assert info.value.code == "empty"


def test_non_text_is_rejected():
    with pytest.raises(UsccError) as info:
        normalize_uscc(91350200)  # type: ignore[arg-type]
    assert info.value.code == "type"
    assert not is_valid_uscc(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["91350200MA2YJ1XR9", "91350200MA2YJ1XR9GG", "9"])
def test_wrong_length(raw):
    with pytest.raises(UsccError) as info:
        normalize_uscc(raw)
    assert info.value.code == "length"
    assert str(len(raw)) in str(info.value) and "18" in str(info.value)


def _outside_charset(ch: str) -> bool:
    """After NFKC + upper-casing, ``ch`` leaves a non-space character outside the charset."""
    folded = unicodedata.normalize("NFKC", ch).upper()
    return any(c not in CHARSET and not c.isspace() for c in folded) and not any(c.isspace() for c in folded)


bad_chars = st.one_of(
    st.sampled_from([*"IOZSVioszv-_./*#中Ｏ", "\u00e9", "\u0301", "\u200b"]),
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
).filter(_outside_charset)


@SETTINGS
@given(valid_codes(), st.integers(min_value=1, max_value=16), bad_chars, st.booleans())
def test_character_outside_charset_is_rejected(code, index, bad, replace):
    raw = code[:index] + bad + code[index + (1 if replace else 0) :]
    with pytest.raises(UsccError) as info:
        normalize_uscc(raw)
    assert info.value.code == "charset"
    assert not is_valid_uscc(raw)


@pytest.mark.parametrize(("letter", "suggestion"), [("O", "0"), ("I", "1"), ("Z", "2"), ("S", "5")])
def test_charset_message_names_position_and_suggests(letter, suggestion):
    raw = "91350200MA2YJ1XR9G"
    raw = raw[:4] + letter + raw[5:]
    with pytest.raises(UsccError) as info:
        normalize_uscc(raw)
    err = info.value
    assert err.code == "charset" and err.position == 5
    assert "position 5" in str(err) and repr(letter) in str(err) and repr(suggestion) in str(err)


def test_division_must_be_digits():
    first17 = "9135A200MA2YJ1XR9"
    code = first17 + check_char_18(first17)
    with pytest.raises(UsccError) as info:
        normalize_uscc(code)
    assert info.value.code == "division" and info.value.position == 5


def test_check_17_message_names_expected_character():
    with pytest.raises(UsccError) as info:
        normalize_uscc("91350200MA2YJ1XR8G")
    err = info.value
    assert err.code == "check_17" and err.position == 17 and err.expected == "9"
    assert "position 17" in str(err) and "'8'" in str(err) and "'9'" in str(err)


def test_error_is_a_value_error_and_pickles():
    with pytest.raises(ValueError):
        normalize_uscc(REAL_BAD_18)
    try:
        normalize_uscc(REAL_BAD_18)
    except UsccError as err:
        copy = pickle.loads(pickle.dumps(err))
        assert (copy.code, copy.position, copy.expected, str(copy)) == (
            err.code,
            err.position,
            err.expected,
            str(err),
        )


@pytest.mark.parametrize(
    ("func", "arg", "code"),
    [
        (check_char_18, "9135020", "length"),
        (check_char_18, "91350200MA2YJ1XRI", "charset"),
        (check_char_17, "MA2YJ1X", "length"),
        (check_char_17, "ma2yj1xr", "charset"),
    ],
)
def test_check_functions_reject_bad_input(func, arg, code):
    with pytest.raises(UsccError) as info:
        func(arg)
    assert info.value.code == code
