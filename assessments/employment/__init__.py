"""An employer (Y) assesses its own workforce (谁用人、谁评价): employment shown by an insurance record at the
employer or an uploaded contract, dispatch or internship agreement, checked at registration, approval and
finalisation; what happens to an outsider (refused, or sent for the bureau's review) is region policy data."""
