"""The local identity provider's own records: its citizens, the codes it hands out and the tokens it issues.

Nothing here is part of the platform: to the platform this is a provider somewhere else, reached over HTTP."""

import hashlib
import uuid

from django.contrib.auth.hashers import check_password, make_password
from django.db import models


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_subject() -> str:
    return uuid.uuid4().hex


class Citizen(models.Model):
    """Someone the provider has identified, at an assurance level (L1 lowest … L4 highest)."""

    class Assurance(models.TextChoices):
        L1 = "L1", "L1 注册用户(未核验)"
        L2 = "L2", "L2 姓名与证件号码已比对"
        L3 = "L3", "L3 实人认证(人脸比对)"
        L4 = "L4", "L4 现场核验或证件读卡"

    subject = models.CharField(max_length=64, unique=True, default=new_subject, editable=False)
    username = models.CharField("用户名", max_length=64, unique=True)
    password = models.CharField(max_length=128)
    name = models.CharField("姓名", max_length=64)
    id_type = models.CharField("证件类型", max_length=20, default="ric")
    id_number = models.CharField("证件号码", max_length=32)
    assurance = models.CharField("认证等级", max_length=4, choices=Assurance.choices, default=Assurance.L3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "公民账号"
        verbose_name_plural = "公民账号"

    def __str__(self) -> str:
        return f"{self.username} · {self.name}"

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)


class AuthorizationCode(models.Model):
    """A code handed to the client through the browser: short-lived, single-use, bound to the PKCE challenge."""

    code_hash = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=255)
    redirect_uri = models.CharField(max_length=1000)
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE)
    scope = models.CharField(max_length=255)
    nonce = models.CharField(max_length=255)
    code_challenge = models.CharField(max_length=128)
    auth_time = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.citizen_id} → {self.client_id}"


class AccessToken(models.Model):
    """What the client presents at the userinfo endpoint. Revoked when its code is presented a second time."""

    token_hash = models.CharField(max_length=64, unique=True)
    code = models.ForeignKey(AuthorizationCode, on_delete=models.CASCADE, related_name="tokens")
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE)
    client_id = models.CharField(max_length=255)
    scope = models.CharField(max_length=255)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token for {self.citizen_id} → {self.client_id}"
