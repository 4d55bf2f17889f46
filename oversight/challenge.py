"""Abuse controls for the anonymous reporting form, without any outside service.

- A small arithmetic question written in Chinese numerals, signed with django.core.signing: the token carries a
  nonce and a keyed hash of the answer (never the answer), expires after CHALLENGE_MAX_AGE seconds and can be
  used once: the first attempt burns it, right or wrong, so guessing costs a new challenge each time.
- A honeypot field that people never see and simple bots fill in.
- Per-address limits of core.ratelimit: wrong answers and honeypot hits count as failures
  ("public_report_failures"), and accepted reports count against "public_report" (oversight.reports); a form
  sent back because a field is missing counts nothing.

Single use is recorded in the cache, which is Redis (shared by every web node) in production.
"""

import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from core.errors import ValidationFailed
from core.ratelimit import failure_count, failures_blocked, rate_blocked, too_many

CHALLENGE_MAX_AGE = 15 * 60
HONEYPOT_FIELD = "website"
_SALT = "oversight.challenge"
_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """0–99 in Chinese numerals: 7 → 七, 15 → 十五, 40 → 四十, 23 → 二十三."""
    if not 0 <= n < 100:
        raise ValueError(n)
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class Challenge:
    token: str
    question: str


def _answer_mac(nonce: str, answer: int) -> str:
    return salted_hmac(_SALT, f"{nonce}:{answer}").hexdigest()


def challenge_new() -> Challenge:
    a, b = secrets.randbelow(20) + 1, secrets.randbelow(20) + 1
    if secrets.randbelow(2):
        answer, text = a + b, _("%(a)s加%(b)s等于多少？") % {"a": chinese_number(a), "b": chinese_number(b)}
    else:
        a, b = max(a, b), min(a, b)
        answer, text = a - b, _("%(a)s减%(b)s等于多少？") % {"a": chinese_number(a), "b": chinese_number(b)}
    nonce = secrets.token_urlsafe(12)
    token = signing.dumps({"n": nonce, "m": _answer_mac(nonce, answer)}, salt=_SALT, compress=False)
    return Challenge(token=token, question=text)


def challenge_check(token: str, answer: str) -> None:
    """Raise ValidationFailed unless the token is genuine, fresh, unused, and the answer is right."""
    failed = ValidationFailed(_("验证题答案不正确或已过期,请回答新的验证题"), details={"field": "challenge"})
    try:
        data = signing.loads(token or "", salt=_SALT, max_age=CHALLENGE_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        raise failed from None
    nonce = str(data.get("n", ""))
    if not nonce or not cache.add(f"oversight:challenge:{nonce}", 1, timeout=CHALLENGE_MAX_AGE + 60):
        raise failed
    try:
        value = int(str(answer).strip())
    except ValueError:
        raise failed from None
    if not constant_time_compare(_answer_mac(nonce, value), str(data.get("m", ""))):
        raise failed


def public_submission_guard(
    *, client_ip: str, honeypot: str, challenge_token: str, challenge_answer: str
) -> ValidationFailed | None:
    """What an anonymous submission must pass before it is read: the address's failure allowance, the honeypot,
    then the question. A wrong answer is returned, not raised, so that the form reports it together with every
    other field's error (oversight.reports.complaint_submit); it counts as one failure of the address."""
    rate_blocked("public_report", client_ip)  # accepted reports: counted by oversight.reports once valid
    wait = failures_blocked("public_report_failures", client_ip)
    if wait:
        raise too_many(wait, _("验证题答错次数过多,请 %(wait)s后再试。"))
    if (honeypot or "").strip():
        failure_count("public_report_failures", client_ip)
        # Deliberately vague: a bot learns nothing about which check it failed.
        raise ValidationFailed(_("提交未通过校验,请刷新页面后重试"), code="rejected")
    try:
        challenge_check(challenge_token, challenge_answer)
    except ValidationFailed as exc:
        wait = failure_count("public_report_failures", client_ip)
        if wait:
            raise too_many(wait, _("验证题答错次数过多,请 %(wait)s后再试。")) from None
        return exc
    return None
