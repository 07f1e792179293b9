"""Preview printers: one PNG per job in a folder inside the preview folder, for trying out."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path

from motcua.printer_targets import Admitted
from printers import raster
from printers.spec import PrintError, PrinterSpec
from printers.transports.base import Transport

# isort: split
from escpos.escpos import Escpos
from escpos.printer import Dummy


def safe_name(name: str) -> str:
    """A file name from a job or ticket name: ASCII letters, digits, dot, dash, underscore."""
    ascii_name = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._")
    return cleaned[:100] or "job"


class PreviewTransport(Transport):
    kind = "preview"

    def locate(self, target: str, instance: Path) -> str:
        folder = Path(target or "previews")
        return str(folder if folder.is_absolute() else instance / folder)

    def _open(self, spec: PrinterSpec, target: Admitted, profile: object, job_name: str) -> Escpos:
        return Dummy(profile=profile)

    def send(self, spec: PrinterSpec, data: bytes, name: str | None) -> Path:
        folder = self.admit(spec).path
        assert folder is not None
        try:
            img = raster.decode(data, width=spec.width_dots)
        except ValueError as exc:
            raise PrintError(f"preview {spec.name!r}: {exc}") from exc
        folder.mkdir(parents=True, exist_ok=True)
        stem = safe_name(name or f"{spec.name}-{datetime.now():%Y%m%d-%H%M%S-%f}")
        path = folder / f"{stem}.png"
        # Write then rename: a viewer polling the folder never sees half a PNG.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".png")
        try:
            with os.fdopen(fd, "wb") as fh:
                img.save(fh, format="PNG", optimize=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
