"""Flask-WTF forms of the configuration pages (CSRF on every one). They check only the shape of
the input; the rules are config.toml's own pydantic models (manager.config_service)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from manager.form_errors import TRANSLATIONS
from motcua.config import WEEKDAYS

WEEKDAY_LABELS = {
    "mon": _l("Thứ Hai"), "tue": _l("Thứ Ba"), "wed": _l("Thứ Tư"), "thu": _l("Thứ Năm"),
    "fri": _l("Thứ Sáu"), "sat": _l("Thứ Bảy"), "sun": _l("Chủ nhật"),
}


def choices(pairs: list[tuple[str, object]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


SPANS_HINT = _l("Ví dụ 07:30-11:30, 13:30-17:30; để trống: không làm việc")


class ManagerForm(FlaskForm):
    """Every form of these pages: WTForms' own messages in plain Vietnamese (English on the
    English page), from manager.form_errors."""

    class Meta:
        def get_translations(self, form):
            return TRANSLATIONS


class ActionForm(ManagerForm):
    """A button that changes something (revoke, new token, reset password): CSRF only."""


class FieldForm(ManagerForm):
    code = StringField(_l("Mã lĩnh vực"), validators=[DataRequired(), Length(max=16)], description=_l("Chữ không dấu, số; không đổi được sau khi tạo"))
    name = StringField(_l("Tên lĩnh vực"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Tên tiếng Anh"), validators=[Optional(), Length(max=200)])
    prefix = StringField(_l("Tiền tố số"), validators=[Optional(), Length(max=3)], description=_l("0–3 chữ in hoa, ví dụ A"))
    start = IntegerField(_l("Số bắt đầu"), validators=[InputRequired(), NumberRange(min=0)], default=1)
    digits = IntegerField(_l("Số chữ số"), validators=[InputRequired(), NumberRange(min=1, max=6)], default=3)
    daily_quota = IntegerField(_l("Số phiếu tối đa mỗi ngày"), validators=[Optional(), NumberRange(min=1)], description=_l("Để trống: không giới hạn"))
    service_minutes = FloatField(_l("Thời gian phục vụ ước tính (phút)"), validators=[InputRequired()], default=10)
    sort_order = IntegerField(_l("Thứ tự hiển thị"), validators=[Optional()], default=0)
    active = BooleanField(_l("Đang nhận hồ sơ"), default=True)
    own_windows = BooleanField(_l("Giờ lấy số riêng cho lĩnh vực này"), description=_l("Không chọn: theo giờ lấy số của đơn vị"))
    # Appointments (motcua.booking): the field's bookable hours cut into slots.
    booking_enabled = BooleanField(_l("Nhận đặt lịch hẹn"), description=_l("Công dân đặt giờ đến trên điện thoại, xác nhận có mặt tại kiosk"))
    booking_spans = TextAreaField(_l("Giờ nhận lịch hẹn"), validators=[Optional(), Length(max=500)],
                                  description=_l("Ví dụ 08:00-11:00, 14:00-16:00 (mọi ngày làm việc); hoặc mỗi dòng một ngày: mon: 08:00-11:00"))
    booking_slot_minutes = IntegerField(_l("Độ dài một lượt hẹn (phút)"), validators=[Optional()], default=15)
    booking_per_slot = IntegerField(_l("Số chỗ mỗi lượt"), validators=[Optional()],
                                    description=_l("Để trống: tính từ số quầy phục vụ lĩnh vực và thời gian phục vụ"))
    booking_share = IntegerField(_l("Tỷ lệ chỗ cho đặt lịch (%)"), validators=[Optional()], default=50,
                                 description=_l("Khi để trống số chỗ mỗi lượt: phần năng lực phục vụ dành cho lịch hẹn, 1–100"))
    booking_days_ahead = IntegerField(_l("Đặt trước tối đa (ngày)"), validators=[Optional()], default=14)
    booking_close_minutes_before = IntegerField(_l("Ngừng nhận đặt trước giờ hẹn (phút)"), validators=[Optional()], default=60)


class CounterForm(ManagerForm):
    number = IntegerField(_l("Số quầy"), validators=[InputRequired(), NumberRange(min=1)])
    name = StringField(_l("Tên quầy"), validators=[Optional(), Length(max=100)], description=_l("Để trống: “Quầy” và số quầy"))
    active = BooleanField(_l("Đang dùng"), default=True)
    # config.toml's `hours` of the counter (manager.config.counters): the wait estimates use them.
    hours = TextAreaField(_l("Giờ làm việc riêng của quầy"), validators=[Optional(), Length(max=500)],
                          description=_l("Ví dụ 07:30-11:30, 13:30-17:00 (mọi ngày làm việc); hoặc mỗi dòng một ngày: mon: 07:30-11:30, 13:30-15:00. "
                                         "Để trống: theo giờ làm việc của đơn vị"))


class PriorityGroupForm(ManagerForm):
    code = StringField(_l("Mã nhóm"), validators=[DataRequired(), Length(max=32)], description=_l("chữ thường không dấu, ví dụ elderly"))
    name = StringField(_l("Tên nhóm"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Tên tiếng Anh"), validators=[Optional(), Length(max=200)])
    sort_order = IntegerField(_l("Thứ tự hiển thị"), validators=[Optional()], default=0)
    active = BooleanField(_l("Đang áp dụng"), default=True)


class PriorityRatioForm(ManagerForm):
    priority_ratio = IntegerField(_l("Số lượt ưu tiên liên tiếp tối đa"), validators=[InputRequired()],
                                  description=_l("Sau chừng ấy lượt ưu tiên liền nhau, một người thường được gọi (1–20)"))
    transfer_position = SelectField(_l("Phiếu chuyển lĩnh vực xếp vào"), choices=choices([("front", _l("Đầu hàng đợi")), ("back", _l("Cuối hàng đợi"))]))


CONNECTIONS = [
    ("network", _l("Mạng LAN (địa chỉ:cổng)")), ("usb", _l("USB (VID:PID)")), ("serial", _l("Cổng nối tiếp (/dev/ttyUSB0:115200)")),
    ("cups", _l("CUPS (tên hàng đợi)")), ("lp", _l("lp (tên hàng đợi)")), ("file", _l("Tệp (đường dẫn)")), ("preview", _l("Xem thử (ảnh PNG)")),
]


class PrinterForm(ManagerForm):
    name = StringField(_l("Tên máy in"), validators=[DataRequired(), Length(max=100)])
    connection = SelectField(_l("Kết nối"), choices=choices(CONNECTIONS))
    target = StringField(_l("Địa chỉ"), validators=[Optional(), Length(max=300)], description=_l("Ví dụ 192.168.1.50:9100"))
    profile = StringField(_l("Mẫu máy (python-escpos)"), validators=[Optional(), Length(max=64)], default="default")
    width_dots = SelectField(_l("Khổ giấy"), choices=choices([("576", _l("80 mm (576 điểm)")), ("384", _l("58 mm (384 điểm)"))]), default="576")
    native_qr = BooleanField(_l("Máy in tự in mã QR"))
    timeout = FloatField(_l("Thời gian chờ máy in (giây)"), validators=[InputRequired()], default=4)
    active = BooleanField(_l("Đang dùng"), default=True)


DEVICE_KINDS = [("kiosk", _l("Kiosk lấy số")), ("display", _l("Màn hình sảnh")), ("counter_display", _l("Màn hình quầy")), ("rating", _l("Máy đánh giá"))]


class DeviceForm(ManagerForm):
    name = StringField(_l("Tên thiết bị"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Loại"), choices=choices(DEVICE_KINDS))
    counter = SelectField(_l("Quầy (màn hình quầy, máy đánh giá)"), choices=[], validate_choice=False)
    printer = SelectField(_l("Máy in (kiosk)"), choices=[], validate_choice=False)
    backup_printer = SelectField(_l("Máy in dự phòng (kiosk)"), choices=[], validate_choice=False)


ROLES = [("clerk", _l("Cán bộ một cửa")), ("manager", _l("Quản lý")), ("admin", _l("Quản trị"))]


class UserForm(ManagerForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Họ và tên"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Vai trò"), choices=choices(ROLES))
    counter = SelectField(_l("Quầy thường làm (cán bộ)"), choices=[], validate_choice=False)
    password = PasswordField(_l("Mật khẩu"), validators=[Optional()], description=_l("Ít nhất 8 ký tự; để trống khi thêm mới: hệ thống tạo và hiện một lần"))
    active = BooleanField(_l("Đang hoạt động"), default=True)


def week_fields(prefix: str) -> dict[str, StringField]:
    return {f"{prefix}{d}": StringField(WEEKDAY_LABELS[d], validators=[Optional(), Length(max=200)]) for d in WEEKDAYS}


ScheduleForm = type(
    "ScheduleForm",
    (ManagerForm,),
    {
        **week_fields("work_"),
        **week_fields("issue_"),
        "holidays": TextAreaField(_l("Ngày nghỉ lễ"), description=_l("Mỗi dòng một ngày, dd/mm/yyyy")),
    },
)

# A field's own ticket windows (shown when own_windows is ticked).
FieldWindowsForm = type("FieldWindowsForm", (ManagerForm,), week_fields("win_"))


class AlertsForm(ManagerForm):
    wait_alert_minutes = IntegerField(_l("Cảnh báo khi có người chờ quá (phút)"), validators=[InputRequired()])
    device_offline_minutes = IntegerField(_l("Cảnh báo thiết bị mất tín hiệu sau (phút)"), validators=[InputRequired()])
    printer_failure_minutes = IntegerField(_l("Xét lỗi máy in trong (phút) gần nhất"), validators=[InputRequired()])


class AnnouncementForm(ManagerForm):
    announcement_template = StringField(_l("Câu mời"), validators=[DataRequired(), Length(max=300)],
                                        description=_l("{number}: số thứ tự, {counter}: số quầy"))
    announcement_repeat = IntegerField(_l("Số lần đọc"), validators=[InputRequired()])


class RatingForm(ManagerForm):
    rating_scale = TextAreaField(_l("Các mức đánh giá (tiếng Việt)"), validators=[DataRequired()], description=_l("Mỗi dòng một mức, mức tốt nhất trước"))
    rating_scale_en = TextAreaField(_l("Các mức đánh giá (tiếng Anh)"), validators=[DataRequired()], description=_l("Cùng số dòng, cùng thứ tự"))
    rating_low_count = IntegerField(_l("Số mức cuối cần hỏi lý do"), validators=[InputRequired()])
    rating_seconds = IntegerField(_l("Thời gian chờ đánh giá (giây)"), validators=[InputRequired()])


class KioskForm(ManagerForm):
    kiosk_reset_seconds = IntegerField(_l("Kiosk quay về màn hình đầu sau (giây)"), validators=[InputRequired()])
    print_max_age_seconds = IntegerField(_l("Bỏ phiếu chưa in được sau (giây)"), validators=[InputRequired()],
                                         description=_l("Phiếu in muộn hơn sẽ không in nữa (tránh in dồn)"))


class RemoteForm(ManagerForm):
    remote_enabled = BooleanField(_l("Nhận lấy số từ xa (từ điện thoại)"))
    remote_share = IntegerField(_l("Phần số mỗi ngày dành cho lấy số từ xa (%)"), validators=[InputRequired()],
                                description=_l("Tính trên số phiếu tối đa mỗi ngày của lĩnh vực; 0: không nhận"))
    remote_phone_required = BooleanField(_l("Bắt buộc nhập số điện thoại"))
    remote_per_phone_per_day = IntegerField(_l("Số lượt tối đa mỗi số điện thoại mỗi ngày"), validators=[InputRequired()])
    remote_check_in = BooleanField(_l("Phải xác nhận có mặt tại kiosk trước khi được gọi"))
    check_in_grace_minutes = IntegerField(_l("Thời gian chờ xác nhận có mặt (phút)"), validators=[InputRequired()],
                                          description=_l("Khi quầy đã gọi qua một số chưa xác nhận có mặt, số đó được giữ chừng ấy phút rồi tự hủy"))
    board_frame_ancestors = TextAreaField(_l("Trang web được nhúng bảng chờ công khai"), validators=[Optional()],
                                          description=_l("Mỗi dòng một địa chỉ, ví dụ https://xaphuonglam.gov.vn; để trống: không trang nào"))
