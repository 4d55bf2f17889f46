"""Exam integrity: the 考培分离, qualification and staffing rules re-checked at every step, the bureau's
exceptions to them, and who may see marks. Rules in `rules`, the check and exceptions in `services`."""
