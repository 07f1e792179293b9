"""Province-of-birth codes: the first three digits of a 12-digit citizen ID number.

The codes are those of Thông tư 07/2016/TT-BCA (Bộ Công an), one per province of the 63 that
existed before the 2025 merger. Numbers already issued keep them for life, and the 34 provinces
since 1 July 2025 (Nghị định 118/2025/NĐ-CP, Nghị quyết 202/2025/QH15) each kept the name and code
of one of the provinces merged into it, so every number in use, old or new, starts with a code
of this table. The name is only for messages and tests; nothing about a citizen's province is
stored.
"""

from __future__ import annotations

PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh",
    "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long",
    "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}

# The 34 provinces since 1 July 2025, by the code each kept (the others merged into them).
CURRENT: frozenset[str] = frozenset({
    "001", "004", "008", "010", "011", "012", "014", "019", "020", "022", "025", "027", "031", "033",
    "037", "038", "040", "042", "045", "046", "048", "051", "056", "064", "066", "068", "072", "075",
    "079", "086", "087", "089", "092", "096",
})
