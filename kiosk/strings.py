"""Text the kiosk's and status page's scripts show, translated on the server with Flask-Babel.

The scripts never hold their own wording: the page renders these tables with `_()` into a JSON
blob, so the English catalogue in kiosk/translations covers every word a citizen reads.
Placeholders in braces ({n}, {code}) are filled in by the scripts.
"""

from __future__ import annotations

from flask_babel import gettext as _


def kiosk_strings() -> dict[str, str]:
    return {
        "waiting_0": _("Chưa có ai chờ"),
        "waiting_1": _("1 người đang chờ"),
        "waiting_n": _("{n} người đang chờ"),
        # No estimate only when no counter serving the field is open: say so.
        "eta_unknown": _("Chưa có quầy mở nên chưa ước tính được thời gian chờ"),
        "eta_range": _("Chờ khoảng {low}–{high} phút"),
        "eta_under": _("Chờ dưới {high} phút"),
        "closed": _("Tạm ngừng cấp số"),
        "issuing": _("Đang cấp số, xin chờ…"),
        "offline": _("Mất kết nối máy chủ, đang thử lại…"),
        "ahead_0": _("Không có ai chờ trước bạn"),
        "ahead_1": _("1 người chờ trước bạn"),
        "ahead_n": _("{n} người chờ trước bạn"),
        "printing": _("Đang in phiếu…"),
        "printed": _("Đã in phiếu — mời nhận phiếu"),
        "print_failed": _("Máy in gặp sự cố. Số của bạn vẫn có hiệu lực: hãy ghi lại số hoặc quét mã QR"),
        "no_printer": _("Vui lòng ghi nhớ số thứ tự"),
        "scan_hint": _("Quét mã để theo dõi lượt trên điện thoại"),
        "reset_in": _("Tự quay lại sau {s} giây"),
        "priority_for": _("Ưu tiên: {group}"),
        "issue_failed": _("Chưa cấp được số. Vui lòng thử lại."),
        # The scanner: a citizen's card, a dossier receipt (kiosk/static/scan.js).
        "card_bad": _("Không đọc được thẻ, mời thử lại hoặc chọn lĩnh vực"),
        "checked_in": _("Đã xác nhận có mặt. Số {code} giữ nguyên chỗ, mời bạn chờ gọi."),
        "card_hello": _("Xin chào {name}"),
        "card_pick": _("Mời chọn lĩnh vực bên dưới"),
        "card_elderly": _("Ưu tiên người cao tuổi"),
        "card_waiting": _("Bạn đã có số {code} ({field}), đang chờ"),
        "card_existing": _("Bạn đã lấy số này hôm nay và vẫn đang chờ"),
        "reprint": _("In lại phiếu"),
        "reprinted": _("Đã gửi lệnh in lại"),
        "reprint_failed": _("Chưa in lại được, mời thử lại"),
        "privacy": _("Kiosk chỉ đọc thẻ để chào bạn, xét ưu tiên và tránh cấp trùng số. "
                     "Không lưu số định danh, họ tên, ngày sinh hay địa chỉ của bạn."),
        "dossier_for": _("Hồ sơ {code}"),
        "help_sent": _("Đã báo cán bộ. Xin vui lòng chờ trong giây lát."),
        "help_failed": _("Chưa báo được cán bộ. Vui lòng thử lại hoặc hỏi tại quầy gần nhất."),
        # A code typed or an appointment's page scanned (kiosk/static/kiosk-code.js).
        "code_erase": _("Xóa"),
        "code_unknown": _("Không có lịch hẹn hay số lấy từ xa nào với mã này hôm nay. Hãy kiểm tra lại mã."),
        "appointment_at": _("Lịch hẹn {start}–{end}"),
        "arrival_in_window": _("Bạn đến đúng giờ hẹn: số của bạn được gọi trước người không hẹn."),
        "arrival_early": _("Bạn đến sớm: khi gần đến giờ hẹn, số của bạn được gọi trước người không hẹn."),
        "arrival_late": _("Bạn đến muộn hơn giờ hẹn: số của bạn được gọi theo thứ tự như người không hẹn."),
    }


def status_strings() -> dict[str, str]:
    return {
        "waiting": _("Đang chờ"),
        "called": _("Mời bạn đến quầy số {counter}"),
        "called_no_counter": _("Đã đến lượt bạn"),
        "serving": _("Đang được phục vụ tại quầy số {counter}"),
        "done": _("Đã phục vụ xong. Cảm ơn bạn!"),
        "cancelled": _("Số này đã được hủy"),
        "no_show": _("Bạn đã vắng mặt khi được gọi"),
        "no_show_hint": _("Vui lòng liên hệ cán bộ tại quầy nếu bạn vẫn cần được phục vụ."),
        "expired": _("Số này đã hết hiệu lực (chỉ có giá trị trong ngày cấp)"),
        "ahead_0": _("Không có ai chờ trước bạn"),
        "ahead_1": _("1 người chờ trước bạn"),
        "ahead_n": _("{n} người chờ trước bạn"),
        "nobody_serving": _("Chưa có quầy nào"),
        "eta_unknown": _("Chưa xác định: chưa có quầy mở cho lĩnh vực này"),
        "eta_range": _("Khoảng {low}–{high} phút"),
        "eta_under": _("Dưới {high} phút"),
        "live": _("Tự động cập nhật"),
        "reconnecting": _("Mất kết nối, đang thử lại…"),
        "updated": _("Cập nhật lúc {time}"),
        "cancel_failed": _("Không hủy được số. Vui lòng thử lại."),
        # Web Push (static/push.js); {ahead} is the office's notify_ahead ("5 và 2").
        "push_on": _("Báo cho tôi"),
        "push_off": _("Tắt thông báo"),
        "push_hint": _("Điện thoại sẽ báo khi còn {ahead} người trước bạn và khi bạn được gọi, kể cả khi đã đóng trang này."),
        "push_on_note": _("Đã bật thông báo cho số này."),
        "push_denied": _("Trình duyệt đang chặn thông báo của trang này. Hãy cho phép trong cài đặt của trình duyệt."),
        "push_failed": _("Chưa bật được thông báo. Vui lòng thử lại."),
    }


def setup_text() -> dict[str, str]:
    """The screen of a kiosk with no device token, for the administrator setting it up."""
    return {
        "title": _("Kiosk chưa được kích hoạt"),
        "body": _(
            "Quản trị viên cần mở trên máy này địa chỉ kiosk có mã thiết bị (dạng …/kiosk/?token=dev_…), "
            "được in ra bởi lệnh motcua demo hoặc motcua devices add. "
            "Mã được lưu lại trên máy, sau đó không cần mở lại."
        ),
        "bad_token": _("Mã thiết bị đã lưu không hợp lệ hoặc đã bị thu hồi: hãy mở lại địa chỉ kiosk mới."),
        "not_kiosk": _("Mã thiết bị đã lưu không phải của một kiosk lấy số."),
    }


def booking_strings() -> dict[str, str]:
    """The booking page's script (kiosk/static/book.js) and the appointment page's (appointment.js)."""
    return {
        "weekdays": _("CN,T2,T3,T4,T5,T6,T7"),
        "today": _("Hôm nay"),
        "left_n": _("còn {n} chỗ"),
        "full": _("hết chỗ"),
        "no_slots": _("Ngày này không còn giờ hẹn trống. Vui lòng chọn ngày khác."),
        "loading": _("Đang tải giờ hẹn…"),
        "pick_field": _("Vui lòng chọn lĩnh vực."),
        "pick_slot": _("Vui lòng chọn giờ hẹn."),
        "need_name": _("Vui lòng nhập họ và tên."),
        "need_phone": _("Vui lòng nhập số điện thoại."),
        "failed": _("Chưa đặt được lịch hẹn. Vui lòng thử lại."),
        "cancel_failed": _("Chưa hủy được lịch hẹn. Vui lòng thử lại."),
    }
