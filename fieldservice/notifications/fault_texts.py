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
JA: Mapping[str, tuple[str, str]] = {
    "FRIDGE_TEMP_DRIFT": (
        "冷蔵庫の冷えが弱くなっています",
        "扉の開け閉めを控え、薬や生鮮品はいちばん冷える段かクーラーボックスへ移してください。"
        "冷蔵庫の背面の通気をふさがないでください。",
    ),
    "FRIDGE_COMPRESSOR_FAILURE": (
        "冷蔵庫のコンプレッサーが止まっています",
        "扉を閉めたままにしてください（約4時間は冷えが保たれます）。"
        "傷みやすい食品や薬はクーラーボックスか冷凍室へ移してください。",
    ),
    "FRIDGE_DOOR_SEAL_LEAK": (
        "冷蔵庫の扉のパッキンから冷気が漏れています",
        "物が挟まっていないか確認し、扉がきちんと閉まっているか確かめてください。",
    ),
    "WASHER_IMBALANCE": (
        "洗濯機の脱水時にバランスが崩れています",
        "一度に洗う量を減らし、大きな物と小さな物を混ぜて入れてください。",
    ),
    "WASHER_DRAIN_BLOCKED": (
        "洗濯機の排水が詰まっています",
        "使用を止め、排水ホースが折れていないか確認してください。水が残っている間は扉を無理に"
        "開けないでください。",
    ),
    "WASHER_BEARING_WEAR": (
        "洗濯機のベアリングが摩耗しています",
        "使い続けられますが、技術者が伺うまで高速脱水は避けてください。",
    ),
    "AC_REFRIGERANT_LOW": (
        "エアコンの冷媒が不足しています",
        "冷えが弱くなりますが使い続けられます。窓や扉を閉めてください。",
    ),
    "AC_FILTER_CLOGGED": (
        "エアコンのフィルターが詰まっています",
        "フィルターを外して水洗いし、よく乾かしてから戻してください。",
    ),
    "BATTERY_WEAR": ("蓄電池の容量が減っています", "使い続けられますが、持ち時間が短くなります。"),
    "BATTERY_OVERHEAT": (
        "蓄電池が過熱しています",
        "すぐに充電を止め、周りの風通しをよくして燃えやすい物を離してください。"
        "異臭や煙があれば離れて119番に通報してください。",
    ),
    "SENSOR_STUCK": ("センサーの値が異常です", "使い続けられます。技術者がセンサーを点検します。"),
    "SENSOR_OUT_OF_RANGE": (
        "センサーの値が範囲外です",
        "使い続けられます。技術者がセンサーを点検します。",
    ),
    "DEVICE_OFFLINE": ("機器がオフラインです", "機器の電源とご自宅のWi-Fiを確認してください。"),
    "APPLIANCE_ERROR_CODE": (
        "機器がエラーコードを報告しています",
        "機器の画面の表示を確認し、異常があれば使用を止めてください。",
    ),
    "UNCLASSIFIED_ANOMALY": (
        "機器の動作がいつもと違います",
        "使い続けられます。担当者からご連絡します。",
    ),
}
TEXTS: Mapping[str, Mapping[str, tuple[str, str]]] = {"zh": ZH, "ja": JA}


def fault_text(fault_code: str, language: str, diagnosis: Mapping[str, Any]) -> tuple[str, str]:
    """(title, advice) for the customer in `language`."""
    localized = TEXTS.get(language_of(language).value, {}).get(fault_code)
    if localized is not None:
        return localized
    title = str(diagnosis.get("title") or fault_code.replace("_", " ").lower())
    advice = str(diagnosis.get("customer_advice") or "no action is needed from you for now.")
    return title, advice
