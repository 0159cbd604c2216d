import inspect

from hubmirror import errors
from hubmirror.server.errors import ERROR_MAP, lookup


def test_every_domain_error_has_a_row_in_the_error_map():
    classes = [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, errors.HubMirrorError)
    ]
    assert classes and all(cls in ERROR_MAP for cls in classes)


def test_gated_repo_is_401_anonymous_and_403_authenticated():
    assert lookup(errors.GatedRepo("x"))[0] == 401
    assert lookup(errors.GatedRepo("x", authenticated=True))[0] == 403


def test_outage_is_a_5xx_never_a_404():
    for exc in (
        errors.UpstreamUnavailable("x"),
        errors.UpstreamTimeout("x"),
        errors.UpstreamUnavailable("x", retry_after=5),
    ):
        assert 500 <= lookup(exc)[0] < 600
