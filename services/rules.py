"""Cross-field rules of offers and projects, checked before the database checks them again."""

from collections.abc import Mapping


def offer_rule_errors(data: Mapping) -> dict[str, list[str]]:
    """Return the broken cross-field rules of an offer's field values, per field."""
    errors: dict[str, list[str]] = {}
    low, high = data.get("amount_min"), data.get("amount_max")
    if low is not None and high is not None and low > high:
        errors["amount_max"] = ["The maximum amount must be at least the minimum amount."]
    if (low is not None or high is not None) and not data.get("currency"):
        errors["currency"] = ["Give the currency of the amounts."]
    opens, deadline = data.get("opens_on"), data.get("deadline")
    if opens is not None and deadline is not None and opens > deadline:
        errors["deadline"] = ["The deadline cannot be before the opening date."]
    return errors


def project_rule_errors(data: Mapping) -> dict[str, list[str]]:
    """Return the broken cross-field rules of a project's field values, per field."""
    errors: dict[str, list[str]] = {}
    budget, cofinancing = data.get("budget"), data.get("cofinancing") or 0
    if budget is not None and cofinancing > budget:
        errors["cofinancing"] = ["Co-financing cannot exceed the budget."]
    starts, ends = data.get("starts_on"), data.get("ends_on")
    if starts is not None and ends is not None and starts > ends:
        errors["ends_on"] = ["The end date cannot be before the start date."]
    return errors
