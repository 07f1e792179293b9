"""Texts the hall display's script shows, translated on the server (Vietnamese msgids)."""

from __future__ import annotations

from flask_babel import gettext as _


def hall_strings() -> dict[str, str]:
    return {
        "now_calling": _("Đang gọi"),
        "recalled": _("Gọi lại"),
        "counter": _("Quầy"),
        "counter_short": _("Quầy"),
        "recent_calls": _("Số vừa gọi"),
        "counters": _("Các quầy"),
        "waiting": _("Số người đang chờ"),
        "no_calls": _("Chưa gọi số nào"),
        "no_current": _("Đang chờ gọi số tiếp theo"),
        "serving": _("Đang phục vụ"),
        "appointment": _("Lịch hẹn"),
        "called": _("Đang mời"),
        "ready": _("Sẵn sàng"),
        "paused": _("Tạm nghỉ"),
        "closed": _("Đóng"),
        "issuing_closed": _("Ngừng cấp số"),
        "disconnected": _("Mất kết nối"),
        "reconnecting": _("Đang kết nối lại, thông tin trên màn hình có thể chưa mới…"),
        "connecting": _("Đang kết nối máy chủ…"),
        "sound_title": _("Chạm để bật âm thanh"),
        "sound_body": _("Trình duyệt cần một lần chạm trước khi phát lời mời."),
        "bad_token": _("Mã thiết bị không hợp lệ hoặc đã bị thu hồi."),
        "wrong_kind": _("Mã này không phải của màn hình sảnh."),
        "media_empty_title": _("Vui lòng lấy số tại kiosk"),
        "media_empty_body": _("Theo dõi số thứ tự trên màn hình và nghe lời mời đến quầy."),
    }
