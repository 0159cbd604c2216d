import pytest

from hubmirror.errors import InvalidInput, RangeNotSatisfiable
from hubmirror.server.ranges import parse_range


@pytest.mark.parametrize(
    ("header", "size", "span"),
    [
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-1000", 100, (0, 99)),
        ("bytes=50-1000", 100, (50, 99)),
    ],
)
def test_satisfiable_ranges_give_inclusive_spans(header, size, span):
    assert parse_range(header).span(size) == span


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0"])
def test_range_past_end_is_416(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header).span(100)


@pytest.mark.parametrize(
    "header", ["bytes=a-b", "bytes=5-1", "items=0-1", "bytes=-", "bytes=0-1,3-4"]
)
def test_malformed_range_is_invalid_input(header):
    with pytest.raises(InvalidInput):
        parse_range(header)


def test_no_range_header_means_whole_file():
    assert parse_range(None) is None


@pytest.mark.parametrize("header", ["bytes=" + "9" * 4400 + "-", "bytes=0-" + "1" * 20])
def test_a_position_no_file_could_reach_is_invalid_input(header):
    with pytest.raises(InvalidInput, match="position too large"):
        parse_range(header)
