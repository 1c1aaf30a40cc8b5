"""Uploads to a temporary folder, refused (413) above the configured size: ``settings.max_upload_mb``."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request, UploadFile

from .errors import UploadTooLarge


def upload_limit(request: Request) -> int:
    """The largest upload in bytes (``SHUIBAO_MAX_UPLOAD_MB``)."""
    return int(request.app.state.settings.max_upload_mb * 2**20)


async def save_upload(upload: UploadFile, folder: Path, limit: int, *, what: str = "upload",
                      default_name: str = "upload") -> Path:
    """Copy ``upload`` into ``folder`` under its own base name (no directories); 413 when above ``limit`` bytes."""
    target = folder / (Path(upload.filename or default_name).name or default_name)
    size = 0
    with open(target, "wb") as fh:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise UploadTooLarge(f"{what} {upload.filename}: larger than {limit / 2**20:.3g} MiB")
            fh.write(chunk)
    return target
