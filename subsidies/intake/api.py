"""The social-security channel's intake API: signed requests only (signing.py), JSON in and out.

POST /api/v1/subsidies/intake/claims    a claim, idempotent by the channel's request_id
GET  /api/v1/subsidies/intake/notices   decisions on the channel's claims after a notice id
"""

import json

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import APIKeyHeader
from pydantic import ValidationError

from core.errors import ValidationFailed

from .services import IntakeClaimIn, channel_notices, intake_claim
from .signing import verify_request


class ChannelSignatureAuth(APIKeyHeader):
    """X-Channel-Key names the channel; X-Timestamp, X-Nonce and X-Signature prove the request is its, fresh and
    new. Anything less is 401 with a code saying which check failed."""

    param_name = "X-Channel-Key"

    def authenticate(self, request: HttpRequest, key: str | None):
        channel = verify_request(request)
        request.channel = channel
        return channel


router = Router(tags=["subsidies-intake"], auth=ChannelSignatureAuth())


class IntakeAnswer(Schema):
    request_id: str
    claim_id: int
    status: str
    amount: str | None = None
    due_on: str | None = None
    account: str
    account_kind: str
    assessment: dict
    replayed: bool = False


class NoticeOut(Schema):
    id: int
    claim_id: int
    request_id: str
    status: str
    title: str
    body: str
    amount: str | None = None
    created_at: str


@router.post(
    "/claims",
    response={201: IntakeAnswer, 409: dict, 422: dict},
    summary="社保服务渠道提交补贴申请(签名请求;按渠道请求编号幂等)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": IntakeClaimIn.model_json_schema()}},
        }
    },
)
def intake_claims(request):
    try:
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError
        data = IntakeClaimIn.model_validate(payload)
    except (ValueError, ValidationError) as exc:
        errors = exc.errors(include_url=False, include_context=False) if isinstance(exc, ValidationError) else []
        raise ValidationFailed(
            _("请求体应为符合接口说明的 JSON 对象"), details={"errors": json.loads(json.dumps(errors, default=str))}
        ) from None
    status, answer = intake_claim(channel=request.auth, body=request.body, data=data)
    return JsonResponse(answer, status=status, json_dumps_params={"ensure_ascii": False})


@router.get("/notices", response=list[NoticeOut], summary="社保服务渠道领取办理结果回传(签名请求)")
def intake_notices(request, after: int = 0, limit: int = 100):
    return [
        {
            "id": n.id,
            "claim_id": n.claim_id,
            "request_id": n.request_id,
            "status": n.status,
            "title": n.title,
            "body": n.body,
            "amount": str(n.amount) if n.amount is not None else None,
            "created_at": n.created_at.isoformat(),
        }
        for n in channel_notices(channel=request.auth, after=after, limit=limit)
    ]
