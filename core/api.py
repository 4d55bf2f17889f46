"""Exports: the files workers build for their owner (core/exports.py). Mounted at /api/v1/exports."""

from ninja import Router

from . import exports

router = Router(tags=["exports"])


def _user(request):
    return getattr(request.auth, "user", None)


@router.get("", summary="我的导出文件(生成进度与下载地址)")
def export_list(request):
    return [exports.describe(e) for e in exports.exports_for(_user(request))[:100]]


@router.get("/{export_id}", summary="导出文件的状态与进度")
def export_detail(request, export_id: int):
    return exports.describe(exports.export_get(_user(request), export_id))


@router.get("/{export_id}/file", summary="下载已生成的导出文件(仅限本人)")
def export_file(request, export_id: int):
    return exports.download_response(exports.export_get(_user(request), export_id))
