"""The format registry: every format registers itself, with a valid descriptor."""

from __future__ import annotations

import pytest

from gatekeeper.reports import registry


def test_every_format_is_registered_with_its_kind() -> None:
    """The formats of the reports package are found without a central list."""
    kinds = {f.name: f.kind for f in registry.formats()}
    assert kinds["junit"] == "test"
    assert {"cobertura", "clover", "jacoco", "lcov", "coveragepy-json", "go-coverprofile"} <= {
        name for name, kind in kinds.items() if kind == "coverage"
    }
    assert registry.lookup("junit").passed_ids is not None


def test_clover_is_tried_before_cobertura() -> None:
    """Clover's detection is a special case of Cobertura's root element, so it comes first."""
    head = registry.Head.of(b'<?xml version="1.0"?>\n<coverage clover="4.4.1"><project/>')
    found = registry.detect(head)
    assert found is not None
    assert found.name == "clover"


def test_a_name_registers_once_and_only_tests_compare_ids() -> None:
    """A second, different descriptor under a known name and cross-file ids on coverage fail."""
    junit = registry.lookup("junit")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(registry.ReportFormat("junit", "test", "x", junit.detect, junit.parse))
    with pytest.raises(ValueError, match="only test formats"):
        registry.ReportFormat("c", "coverage", "c", junit.detect, junit.parse, junit.passed_ids)
    registry.ReportFormat("f", "findings", "SARIF", junit.detect, junit.parse)
