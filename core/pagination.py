"""The API's pagination: ninja's limit/offset, with the offset bounded so that a huge number is a 422 and never
reaches the database (SQLite and PostgreSQL both fail on an OFFSET past 64 bits; found by the schema fuzzing)."""

from ninja import Field, Schema
from ninja.conf import settings
from ninja.pagination import LimitOffsetPagination

MAX_OFFSET = 2**31 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(settings.PAGINATION_PER_PAGE, ge=1, le=settings.PAGINATION_MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
