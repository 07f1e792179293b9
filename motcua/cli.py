"""The `motcua` command. A command that prints a token prints it alone on its last line."""

from __future__ import annotations

import logging
import os
import sys
from importlib.metadata import entry_points

import click
from sqlalchemy import select

from motcua import passwords
from motcua.config import ConfigError
from motcua.engine import clock
from motcua.models import ApiToken, Counter, Device, DeviceKind, Office, Role, User
from motcua.netaddr import public_url_hint
from motcua.security import derived_secret, hash_password, new_token, token_hash


def make_app(**kwargs):
    from motcua.app import create_app

    try:
        return create_app(**kwargs)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


def _office(s, code: str | None) -> Office:
    q = select(Office).order_by(Office.id)
    if code:
        q = q.where(Office.code == code)
    office = s.scalar(q)
    if office is None:
        raise click.ClickException(f"Không có đơn vị {code or ''} / no such office (run `motcua db upgrade` and `motcua seed`)")
    return office


@click.group()
@click.option("--config", "config_path", envvar="MOTCUA_CONFIG", help="config.toml path (MOTCUA_CONFIG)")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """motcua: queue and kiosk service for one-stop reception counters."""
    ctx.obj = {"config": config_path}


def _app(ctx: click.Context, **kwargs):
    return make_app(config_path=ctx.obj["config"], **kwargs)


@main.command()
@click.option("--host", envvar="MOTCUA_HOST", help="Address to listen on (MOTCUA_HOST)")
@click.option("--port", envvar="MOTCUA_PORT", type=int, help="Port (MOTCUA_PORT); with --workers N, the first of N ports")
@click.option("--prod", is_flag=True, envvar="MOTCUA_PROD", help="Production: gunicorn with the gevent worker (MOTCUA_PROD=1)")
@click.option("--workers", type=int, default=1, show_default=True, envvar="MOTCUA_WORKERS",
              help="--prod: processes, on ports PORT..PORT+N-1 behind a sticky proxy; more than 1 needs REDIS_URL (MOTCUA_WORKERS)")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, prod: bool, workers: int) -> None:
    """Serve the kiosk, counters, displays, manager pages and the API (one process, threads;
    --prod: gunicorn with gevent, see docs/deployment.md)."""
    from motcua.realtime import get_socketio

    if prod:
        _serve_prod(ctx, host, port, workers)
        return
    if workers != 1:
        raise click.UsageError("--workers cần --prod / --workers needs --prod")
    app = _app(ctx)
    settings = app.extensions["motcua"].settings
    host, port = host or settings["host"], port or settings["port"]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from motcua import dayend, notify

    if dayend.enabled():
        dayend.start(app)
    if notify.enabled():
        notify.start(app)
    click.echo(f"motcua đang chạy tại / serving on http://{host}:{port}/  (Ctrl+C để dừng / to stop)")
    for line in public_url_hint(settings, host, port):
        click.echo(line)
    get_socketio(app).run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


def _serve_prod(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Check the settings in this process (a clear error before gunicorn starts), then run gunicorn."""
    from motcua import production
    from motcua.config import effective_settings, instance_path, load_config

    try:
        config, _ = load_config(ctx.obj["config"])
        settings = effective_settings(config, instance_path())
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    try:
        warnings = production.check(workers, settings)
    except production.ProductionError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    for warning in warnings:
        click.echo(warning, err=True)
    host, port = host or settings["host"], port or settings["port"]
    if ctx.obj["config"]:
        os.environ["MOTCUA_CONFIG"] = str(ctx.obj["config"])  # gunicorn's worker builds the app from the environment
    os.environ["MOTCUA_HOST"] = host
    addresses = ", ".join(f"http://{host}:{p}/" for p in production.ports(port, workers))
    click.echo(f"motcua (gunicorn + gevent, {workers} tiến trình / processes) tại / on {addresses}")
    sys.exit(production.serve(host, port, workers, echo=lambda m: click.echo(m, err=True)))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply migrations (creates the database on first run)."""
    from motcua.migrate import upgrade

    app = _app(ctx.parent.parent, plugins=False)
    upgrade(app.extensions["motcua"].db.engine)
    click.echo("Cơ sở dữ liệu đã cập nhật / database is up to date")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.pass_context
def db_revision(ctx: click.Context, message: str) -> None:
    """(Developers) autogenerate a migration from the models."""
    from motcua.migrate import revision

    app = _app(ctx.parent.parent, plugins=False)
    revision(app.extensions["motcua"].settings["database_url"], message)


@main.command()
@click.pass_context
def seed(ctx: click.Context) -> None:
    """Create the offices, fields, counters, printers and devices of config.toml that are missing."""
    from motcua.seed import seed as do_seed

    app = _app(ctx, plugins=False)
    st = app.extensions["motcua"]
    with st.db.write() as s:
        offices = do_seed(s, st.config)
    click.echo("Đã nạp cấu hình / seeded: " + ", ".join(o.code for o in offices))


@main.group()
def users() -> None:
    """Staff accounts."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--counter", type=int, help="The counter a clerk works at")
@click.option("--office", help="Office code (default: the first; admins: omit with --all-offices)")
@click.option("--all-offices", is_flag=True, help="An admin of every office")
@click.option("--name", "full_name", default="", help="Full name shown on screens")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
@click.pass_context
def users_add(ctx: click.Context, username: str, role: str, counter: int | None, office: str | None,
              all_offices: bool, full_name: str, password_stdin: bool) -> None:
    """Add a user (the password is asked for, or read from standard input)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Mật khẩu / Password", hide_input=True, confirmation_prompt=True)
    why = passwords.problem(password, username=username, full_name=full_name)
    if why is not None:
        raise click.ClickException(" / ".join(why))
    app = _app(ctx.parent.parent, plugins=False)
    with app.extensions["motcua"].db.write() as s:
        if s.scalar(select(User).where(User.username == username)):
            raise click.ClickException(f"Đã có người dùng {username} / user {username} exists")
        o = None if (all_offices and role == "admin") else _office(s, office)
        c = None
        if counter is not None:
            c = s.scalar(select(Counter).where(Counter.office_id == o.id, Counter.number == counter)) if o else None
            if c is None:
                raise click.ClickException(f"Không có quầy {counter} / no counter {counter}")
        s.add(User(username=username, full_name=full_name, role=Role(role), office_id=o.id if o else None,
                   counter_id=c.id if c else None, password_hash=hash_password(password), created_at=clock.now()))
    click.echo(f"Đã tạo {username} ({role}) / created")


@main.group()
def tokens() -> None:
    """API tokens for users."""


@tokens.command("issue")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for")
@click.pass_context
def tokens_issue(ctx: click.Context, username: str, name: str) -> None:
    """Print a new bearer token for USERNAME (last line)."""
    app = _app(ctx.parent.parent, plugins=False)
    token = new_token("usr")
    with app.extensions["motcua"].db.write() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"Không có người dùng {username} / no user {username}")
        s.add(ApiToken(user_id=user.id, name=name, token_hash=token_hash(token), created_at=clock.now()))
    click.echo(token)


@main.group()
def devices() -> None:
    """Kiosks, displays, rating pads and counter displays."""


@devices.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in DeviceKind]), required=True)
@click.option("--office", help="Office code (default: the first)")
@click.option("--counter", type=int, help="Counter of a rating pad or counter display")
@click.option("--printer", help="Printer name of a kiosk")
@click.option("--backup-printer", help="Backup printer name of a kiosk")
@click.pass_context
def devices_add(ctx: click.Context, name: str, kind: str, office: str | None, counter: int | None,
                printer: str | None, backup_printer: str | None) -> None:
    """Add a device, or give an existing one a new token (the old one stops working). Prints the token last."""
    from motcua.models import Printer

    app = _app(ctx.parent.parent, plugins=False)
    token = new_token("dev")
    with app.extensions["motcua"].db.write() as s:
        o = _office(s, office)

        def printer_id(pname: str | None) -> int | None:
            if not pname:
                return None
            p = s.scalar(select(Printer).where(Printer.office_id == o.id, Printer.name == pname))
            if p is None:
                raise click.ClickException(f"Không có máy in {pname} / no printer {pname}")
            return p.id

        c = None
        if counter is not None:
            c = s.scalar(select(Counter).where(Counter.office_id == o.id, Counter.number == counter))
            if c is None:
                raise click.ClickException(f"Không có quầy {counter} / no counter {counter}")
        d = s.scalar(select(Device).where(Device.office_id == o.id, Device.name == name))
        if d is None:
            d = Device(office_id=o.id, name=name, kind=DeviceKind(kind), created_at=clock.now())
            s.add(d)
        d.kind, d.token_hash, d.revoked_at = DeviceKind(kind), token_hash(token), None
        d.counter_id = c.id if c else d.counter_id
        d.printer_id = printer_id(printer) or d.printer_id
        d.backup_printer_id = printer_id(backup_printer) or d.backup_printer_id
    click.echo(token)


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Seed the demo office from config.toml, with demo staff and device tokens, and print how to use it."""
    from motcua.seed import seed as do_seed

    app = _app(ctx, plugins=False)
    st = app.extensions["motcua"]
    secret = app.config["SECRET_KEY"]
    base = f"http://{st.settings['host']}:{st.settings['port']}"
    lines = []
    with st.db.write() as s:
        for office in do_seed(s, st.config):
            lines += _demo_office(s, office, secret, base)
    lines += public_url_hint(st.settings, st.settings["host"], st.settings["port"])
    click.echo("\n".join(lines))


DEVICE_PAGES = {
    DeviceKind.kiosk: ("Kiosk lấy số", "Kiosk", "/kiosk/"),
    DeviceKind.display: ("Màn hình sảnh", "Hall display", "/display/"),
    DeviceKind.counter_display: ("Màn hình quầy", "Counter display", "/counter/display"),
    DeviceKind.rating: ("Đánh giá hài lòng", "Rating pad", "/counter/rating"),
}


def _demo_office(s, office: Office, secret: str, base: str) -> list[str]:
    """Demo credentials derive from this instance's secret key: stable across restarts, never in git."""
    # The demo office's name already ends in "(demo)": say the code only when it adds something.
    label = office.name if f"({office.code})" in office.name else f"{office.name} ({office.code})"
    out = [f"== Đơn vị / office: {label} ==", "   TÀI KHOẢN DEMO — chỉ dùng thử / DEMO ACCOUNTS — for trying out only"]
    people = [("admin", Role.admin, None, "Quản trị demo"), ("quanly", Role.manager, None, "Quản lý demo")]
    people += [(f"canbo{c.number}", Role.clerk, c, f"Cán bộ quầy {c.number}") for c in office.counters]
    for username, role, counter, full_name in people:
        username = username if office.code == "demo" else f"{office.code}-{username}"
        password = derived_secret(secret, f"demo-user:{username}", 12)
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            s.add(User(username=username, full_name=full_name, role=role, office_id=office.id,
                       counter_id=counter.id if counter else None, password_hash=hash_password(password), created_at=clock.now()))
        out.append(f"   {role.value:8} {username:12} mật khẩu / password: {password}")
    for d in s.scalars(select(Device).where(Device.office_id == office.id).order_by(Device.id)):
        token = "dev_" + derived_secret(secret, f"demo-device:{office.code}:{d.name}", 43)
        d.token_hash, d.revoked_at = token_hash(token), None
        vi, en, path = DEVICE_PAGES[d.kind]
        out.append(f"   {vi} / {en} — {d.name}: {base}{path}?token={token}")
    out.append(f"   Quầy / Counter page: {base}/counter/   Quản lý / Manager: {base}/manager/   (đăng nhập / sign in)")
    return out


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--seed", type=int, help="Random seed (default: the scenario's)")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object on the last line")
@click.option("--database", "database_url", help="Database URL to run on (default: a temporary SQLite file)")
def simulate(scenario: str, seed: int | None, as_json: bool, database_url: str | None) -> None:
    """Run a centre's day from a scenario file through the real engine on a virtual clock."""
    import json
    import time

    from motcua.simulation.scenario import ScenarioError
    from motcua.simulation.simulate import simulate as run

    started = time.perf_counter()
    try:
        out = run(scenario, seed=seed, database_url=database_url)
    except ScenarioError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    took = time.perf_counter() - started
    click.echo(f"Mô phỏng {out['days']} ngày, {out['tickets']} phiếu trong {took:.1f} s / simulated {out['days']} day(s), "
               f"{out['tickets']} tickets in {took:.1f} s", err=True)
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
        return
    from motcua.simulation.text import render

    click.echo(render(out))


@main.command()
@click.option("--weeks", type=click.IntRange(1, 26), default=4, show_default=True, help="Weeks of history to learn from")
@click.option("--target-p90", "target", type=click.FloatRange(1, 240), help="p90 wait to keep under, minutes (default: the office's wait_target_minutes)")
@click.option("--office", "office_code", help="Office code (default: the first office)")
@click.option("--json", "as_json", is_flag=True, help="Print the advice as one JSON object on the last line")
@click.option("--database", "database_url", help="Database URL (default: the server's)")
@click.option("--store", is_flag=True, hidden=True, help="Only store the result for the manager page (its background job)")
@click.pass_context
def staffing(ctx: click.Context, weeks: int, target: float | None, office_code: str | None, as_json: bool,
             database_url: str | None, store: bool) -> None:
    """Counters each field needs each hour to keep the p90 wait under target, simulated from history."""
    import json
    import time

    from motcua.config import effective_settings, instance_path, load_config, normalise_db_url
    from motcua.db import Database
    from motcua.simulation import staffing_jobs
    from motcua.simulation.staffing import StaffingError, advise, target_minutes
    from motcua.simulation.staffing_text import render

    try:
        config, _ = load_config(ctx.obj["config"])
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    instance = instance_path()
    db = Database(normalise_db_url(database_url) if database_url else effective_settings(config, instance)["database_url"])
    try:
        with db.read() as s:
            office = _office(s, office_code)
            code, day = office.code, clock.business_day(clock.now(), office.timezone)
            target = target if target is not None else target_minutes(office)
        k = staffing_jobs.key(code, weeks, target, day)
        with staffing_jobs.holding(instance, k) as mine:
            if not mine:
                click.echo(f"Đang tính cho {code} ở tiến trình khác / already being computed for {code}", err=True)
                sys.exit(0 if store else 1)
            started = time.perf_counter()
            try:
                out = advise(db, code, weeks, target)
            except StaffingError as exc:
                if store:
                    staffing_jobs.store_failure(instance, k, str(exc))
                raise click.ClickException(str(exc)) from None
            except Exception as exc:
                if store:
                    staffing_jobs.store_failure(instance, k, f"{type(exc).__name__}: {exc}")
                raise
            out["took_s"] = round(time.perf_counter() - started, 1)
            staffing_jobs.store(instance, k, out)
    finally:
        db.dispose()
    click.echo(f"{out['simulated_days']} ngày mô phỏng trong {out['took_s']:.1f} s / "
               f"{out['simulated_days']} simulated days in {out['took_s']:.1f} s", err=True)
    if store:
        return
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
        return
    click.echo(render(out))


def _load_plugin_commands() -> None:
    """UI rooms add their own commands (e.g. `motcua printers ...`) through this group."""
    for ep in entry_points(group="motcua.commands"):
        main.add_command(ep.load(), ep.name)


_load_plugin_commands()
