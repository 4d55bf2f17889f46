"""Pages for a user's exports: progress while a worker builds the file, then the download (owner only)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import exports


@login_required
def export_list(request):
    return render(request, "core/exports.html", {"exports": exports.exports_for(request.user)[:100]})


@login_required
def export_detail(request, export_id: int):
    export = exports.export_get(request.user, export_id)
    return render(request, "core/export.html", {"export": export, "working": export.status in ("queued", "running")})


@login_required
def export_download(request, export_id: int):
    return exports.download_response(exports.export_get(request.user, export_id))
