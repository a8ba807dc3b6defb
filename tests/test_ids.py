import pytest

from lmdev.errors import InvalidIdError
from lmdev.ids import ArxivId, file_stem, id_from_stem, normalise_paper_id, parse_arxiv_id


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2205.14135", ArxivId("2205.14135")),
        ("2205.14135v2", ArxivId("2205.14135", 2)),
        ("arXiv:2205.14135", ArxivId("2205.14135")),
        ("https://arxiv.org/abs/2205.14135v1", ArxivId("2205.14135", 1)),
        ("https://arxiv.org/pdf/2205.14135", ArxivId("2205.14135")),
        ("https://arxiv.org/pdf/2205.14135v3.pdf", ArxivId("2205.14135", 3)),
        ("http://arxiv.org/abs/2205.14135", ArxivId("2205.14135")),
        ("http://export.arxiv.org/abs/2205.14135/", ArxivId("2205.14135")),
        ("  0704.0001 ", ArxivId("0704.0001")),
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("hep-th/9901001v1", ArxivId("hep-th/9901001", 1)),
        ("math.AG/0601001", ArxivId("math.AG/0601001")),
        ("https://arxiv.org/abs/hep-th/9901001v2", ArxivId("hep-th/9901001", 2)),
        ("https://arxiv.org/pdf/quant-ph/0201082v1.pdf", ArxivId("quant-ph/0201082", 1)),
        ("https://arxiv.org/html/2205.14135v2", ArxivId("2205.14135", 2)),
        ("arxiv.org/pdf/2307.03172", ArxivId("2307.03172")),
        ("www.arxiv.org/abs/2205.14135v3", ArxivId("2205.14135", 3)),
        ("https://doi.org/10.48550/arXiv.2205.14135", ArxivId("2205.14135")),
        ("doi:10.48550/arXiv.2205.14135", ArxivId("2205.14135")),
        ("10.48550/ARXIV.2205.14135", ArxivId("2205.14135")),
        ("1412.9999", ArxivId("1412.9999")),
        ("1501.00001", ArxivId("1501.00001")),
    ],
)
def test_every_id_form_users_paste_is_understood(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize("text", ["abc", "2205.141", "2213.14135", "../x", "hep-th/99", "2205.14135v0", "https://example.org/abs/2205.14135", "", "2205.14135; rm -rf"])
def test_invalid_ids_are_rejected_before_any_request(text: str) -> None:
    with pytest.raises(InvalidIdError) as info:
        parse_arxiv_id(text)
    assert repr(text.strip()) in str(info.value)


@pytest.mark.parametrize("text, month", [("2213.14135", "13"), ("9999.99999", "99"), ("https://arxiv.org/abs/2500.00001v2", "00"), ("hep-th/9913001", "13")])
def test_an_id_refused_for_its_month_says_so(text: str, month: str) -> None:
    with pytest.raises(InvalidIdError) as info:
        parse_arxiv_id(text)
    assert f"{month} is not a month" in str(info.value)
    with pytest.raises(InvalidIdError) as info:
        normalise_paper_id(text)
    assert f"{month} is not a month" in str(info.value)


@pytest.mark.parametrize("text, says", [("1501.0001", "ids of 1501 have 5 digits"), ("2401.0001v2", "ids of 2401 have 5 digits"), ("0704.00001", "ids of 0704 have 4 digits"), ("1412.12345", "ids of 1412 have 4 digits"), ("0612.1234", "begin in April 2007, 0704")])
def test_an_id_with_a_digit_dropped_or_doubled_is_refused_and_says_how_many_it_needs(text: str, says: str) -> None:
    """arXiv numbers papers with four digits from 0704 to 1412 and five since 1501: such an id
    names no paper, and a pasted one has lost or gained a digit."""
    with pytest.raises(InvalidIdError) as info:
        parse_arxiv_id(text)
    assert says in str(info.value) and repr(text) in str(info.value)


def test_an_id_of_the_wrong_shape_gets_no_talk_of_months() -> None:
    with pytest.raises(InvalidIdError) as info:
        parse_arxiv_id("2212.14135x")
    assert "month" not in str(info.value)


def test_old_style_ids_map_to_safe_file_names_and_back() -> None:
    assert file_stem("hep-th/9901001") == "hep-th_9901001"
    assert id_from_stem("hep-th_9901001") == "hep-th/9901001"
    assert id_from_stem("2205.14135") == "2205.14135"
    assert id_from_stem("gptworld") == "gptworld"


@pytest.mark.parametrize("stem", ["..", "a_b_c", "2205.14135v2", "Hep-th_9901001"])
def test_file_names_that_map_to_no_id_are_refused(stem: str) -> None:
    with pytest.raises(InvalidIdError):
        id_from_stem(stem)


def test_slugs_identify_readings_that_are_not_on_arxiv() -> None:
    assert normalise_paper_id("srush-gptworld") == "srush-gptworld"
    with pytest.raises(InvalidIdError):
        normalise_paper_id("../etc/passwd")
