"""The demo shop's catalog and plans: the seed writes them, the bot learns them."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple


class CatalogProduct(NamedTuple):
    sku: str
    name_en: str
    name_zh: str
    brand: str
    price: Decimal


class CatalogPlan(NamedTuple):
    code: str
    name_en: str
    name_zh: str
    monthly_price: Decimal


def _p(sku: str, en: str, zh: str, brand: str, price: str) -> CatalogProduct:
    return CatalogProduct(sku, en, zh, brand, Decimal(price))


PRODUCTS: tuple[CatalogProduct, ...] = (
    _p("AUR-BUDS", "Auralis Buds", "奥拉耳机", "Auralis", "79.00"),
    _p("AUR-MAX", "Auralis Max Headphones", "奥拉头戴耳机", "Auralis", "199.00"),
    _p("AUR-SPK", "Auralis Home Speaker", "奥拉音箱", "Auralis", "129.00"),
    _p("NIM-AIR", "Nimbus Air Purifier", "云朵空气净化器", "Nimbus", "249.00"),
    _p("NIM-HUM", "Nimbus Humidifier", "云朵加湿器", "Nimbus", "89.00"),
    _p("NIM-FAN", "Nimbus Tower Fan", "云朵塔扇", "Nimbus", "119.00"),
    _p("KIT-KETTLE", "Kito Smart Kettle", "基托智能水壶", "Kito", "59.00"),
    _p("KIT-BLEND", "Kito Blender", "基托破壁机", "Kito", "149.00"),
    _p("KIT-RICE", "Kito Rice Cooker", "基托电饭煲", "Kito", "99.00"),
    _p("KIT-COFFEE", "Kito Coffee Maker", "基托咖啡机", "Kito", "179.00"),
    _p("LUM-LAMP", "Lumio Desk Lamp", "流明台灯", "Lumio", "45.00"),
    _p("LUM-BULB", "Lumio Smart Bulb", "流明智能灯泡", "Lumio", "19.00"),
    _p("LUM-STRIP", "Lumio Light Strip", "流明灯带", "Lumio", "35.00"),
    _p("VEL-WATCH", "Velo Smartwatch", "维洛智能手表", "Velo", "229.00"),
    _p("VEL-BAND", "Velo Fitness Band", "维洛运动手环", "Velo", "69.00"),
    _p("VEL-SCALE", "Velo Smart Scale", "维洛体脂秤", "Velo", "49.00"),
    _p("PIX-CAM", "Pixa Action Camera", "皮克萨运动相机", "Pixa", "299.00"),
    _p("PIX-DOOR", "Pixa Video Doorbell", "皮克萨可视门铃", "Pixa", "159.00"),
    _p("PIX-HUB", "Pixa Home Hub", "皮克萨智能中枢", "Pixa", "99.00"),
    _p("TER-MUG", "Terra Travel Mug", "大地保温杯", "Terra", "25.00"),
    _p("TER-BOTTLE", "Terra Water Bottle", "大地水瓶", "Terra", "22.00"),
    _p("TER-BAG", "Terra Backpack", "大地双肩包", "Terra", "89.00"),
    _p("ZEN-VAC", "Zenko Robot Vacuum", "禅扫地机器人", "Zenko", "399.00"),
    _p("ZEN-MOP", "Zenko Cordless Mop", "禅无线拖把", "Zenko", "189.00"),
)

PLANS: tuple[CatalogPlan, ...] = (
    CatalogPlan("basic", "Basic", "基础版", Decimal("9.99")),
    CatalogPlan("plus", "Plus", "进阶版", Decimal("19.99")),
    CatalogPlan("premium", "Premium", "尊享版", Decimal("39.99")),
    CatalogPlan("family", "Family", "家庭版", Decimal("49.99")),
)
