"""Real-shaped CCCD QR texts for tests (the numbers agree with province, century, sex and year)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.env import REPO


@dataclass(frozen=True)
class SampleCard:
    number: str
    old: str
    name: str
    birth: str  # DDMMYYYY
    sex: str
    address: str
    issued: str

    @property
    def qr(self) -> str:
        return "|".join((self.number, self.old, self.name, self.birth, self.sex, self.address, self.issued))

    @property
    def secrets(self) -> list[str]:
        """What must never be stored: the number, old number, name, birth date and address."""
        out = [self.number, self.name, self.birth, self.address, f"{self.birth[4:]}-{self.birth[2:4]}-{self.birth[:2]}"]
        return out + ([self.old] if self.old else [])


LAN = SampleCard("001158012345", "012345678", "Nguyễn Thị Lan", "15031958", "Nữ",
               "Số 12 ngõ 34 phố Khâm Thiên, phường Văn Miếu - Quốc Tử Giám, Hà Nội", "10052021")
HUNG = SampleCard("079201123456", "", "Trần Văn Hùng", "02092001", "Nam",
                "Số 5 đường Lê Lợi, phường Sài Gòn, TP Hồ Chí Minh", "20042021")
MAI = SampleCard("092305004321", "", "Lê Ngọc Mai", "30112005", "Nữ", "Ấp Thạnh Hòa, xã Phong Điền, TP Cần Thơ", "01062022")

CITIZENS = REPO / "tests" / "data" / "citizens.toml"
RECEIPT = "PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ\nMã hồ sơ: 000.00.12.h56-240101-0001\nNgày hẹn trả: 05/01/2024"


def card_ticket(client, demo, card, service: str = "HT", **body):
    return client.post("/api/v1/tickets", json={"service": service, "id_qr": card.qr + "\r\n", **body}, headers=demo.kiosk)
