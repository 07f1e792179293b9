"""`motcua printers status` and `motcua printers test NAME`."""

from __future__ import annotations

import click
from sqlalchemy import select


@click.group()
def printers() -> None:
    """Printers: health and test pages."""


def _app(ctx: click.Context):
    from motcua.cli import make_app

    return make_app(config_path=ctx.find_root().obj["config"], plugins=False)


@printers.command("status")
@click.pass_context
def status(ctx: click.Context) -> None:
    """Ask every printer how it is (online, paper)."""
    from motcua.printer_targets import Allowlist
    from printers.spooler import Spooler

    app = _app(ctx)
    st = app.extensions["motcua"]
    for name, s in Spooler(st.db, st.instance, Allowlist.of(st)).check_health().items():
        if s.online is None:
            state = "không kiểm tra được / cannot tell (file, CUPS, preview)"
        elif not s.online:
            state = f"NGOẠI TUYẾN / OFFLINE {s.error or ''}".strip()
        else:
            paper = {"ok": "giấy đủ / paper ok", "near_end": "SẮP HẾT GIẤY / paper near end", "out": "HẾT GIẤY / out of paper"}.get(s.paper or "", "")
            state = f"trực tuyến / online, {paper}"
        click.echo(f"{name}: {state}")


@printers.command("test")
@click.argument("name")
@click.pass_context
def test_page(ctx: click.Context, name: str) -> None:
    """Print a test page (every Vietnamese letter, a ruler) on printer NAME."""
    from motcua.models import Printer
    from motcua.printer_targets import Allowlist
    from printers.spec import PrintError
    from printers.spooler import print_test_page, spec_for

    app = _app(ctx)
    st = app.extensions["motcua"]
    with st.db.read() as s:
        p = s.scalar(select(Printer).where(Printer.name == name))
        if p is None:
            raise click.ClickException(f"Không có máy in {name} / no printer {name}")
        spec = spec_for(p, st.instance, Allowlist.of(st))
    try:
        written = print_test_page(spec)
    except PrintError as exc:
        raise click.ClickException(f"In thử thất bại / test page failed: {exc}") from None
    click.echo(f"Đã gửi trang in thử / test page sent{': ' + str(written) if written else ''}")
