"""Fault titles and customer advice in each language, for the codes customers hear about.

English comes from the fault catalog carried in the ticket's diagnosis; other languages
from the table here (falling back to English where a code is missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.languages import language_of

ZH: Mapping[str, tuple[str, str]] = {
    "FRIDGE_TEMP_DRIFT": (
        "冰箱制冷能力下降",
        "请尽量少开冰箱门，把药品和生鲜肉类移到最冷的一层或保温箱，并让冰箱背面保持通风。",
    ),
    "FRIDGE_COMPRESSOR_FAILURE": (
        "冰箱压缩机停止工作",
        "请保持冰箱门关闭（可保冷约4小时），把易坏的食物和药品移到保温箱或冷冻室。",
    ),
    "FRIDGE_DOOR_SEAL_LEAK": (
        "冰箱门封条漏气",
        "请检查门是否被物品挡住，关门时确认完全关严。",
    ),
    "WASHER_IMBALANCE": ("洗衣机甩干不平衡", "请减少每次的衣物量，并把大件衣物和小件混合放入。"),
    "WASHER_DRAIN_BLOCKED": (
        "洗衣机排水受阻",
        "请暂停使用，检查排水管是否弯折，不要强行打开有水的机门。",
    ),
    "WASHER_BEARING_WEAR": ("洗衣机轴承磨损", "可以继续使用，但请避免高速甩干，直到技师上门。"),
    "AC_REFRIGERANT_LOW": ("空调冷媒不足", "空调制冷会变弱，可以继续使用，请关好门窗。"),
    "AC_FILTER_CLOGGED": ("空调滤网堵塞", "您可以取下滤网用清水冲洗，晾干后装回。"),
    "BATTERY_WEAR": ("电池容量衰减", "电池仍可使用，但续航会变短。"),
    "BATTERY_OVERHEAT": (
        "电池过热",
        "请立即停止充电，让电池周围保持通风，远离易燃物；如有异味或冒烟，请离开并拨打119。",
    ),
    "SENSOR_STUCK": ("传感器读数异常", "设备可以继续使用，技师会检查传感器。"),
    "SENSOR_OUT_OF_RANGE": ("传感器读数超出范围", "设备可以继续使用，技师会检查传感器。"),
    "DEVICE_OFFLINE": ("设备离线", "请检查设备电源和家中Wi-Fi是否正常。"),
    "APPLIANCE_ERROR_CODE": ("设备报告故障代码", "请查看设备屏幕上的提示，如有异常请停止使用。"),
    "UNCLASSIFIED_ANOMALY": ("设备运行异常", "设备可以继续使用，我们的技师会联系您。"),
}
TEXTS: Mapping[str, Mapping[str, tuple[str, str]]] = {"zh": ZH}


def fault_text(fault_code: str, language: str, diagnosis: Mapping[str, Any]) -> tuple[str, str]:
    """(title, advice) for the customer in `language`."""
    localized = TEXTS.get(language_of(language).value, {}).get(fault_code)
    if localized is not None:
        return localized
    title = str(diagnosis.get("title") or fault_code.replace("_", " ").lower())
    advice = str(diagnosis.get("customer_advice") or "no action is needed from you for now.")
    return title, advice
