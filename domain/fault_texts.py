"""What a customer is told about each fault, in every language, from one record per fault.

Each record has the title and advice in every `Language`, and the safety instructions the
advice must carry in all of them (`SAFETY`), so no language tells a customer something
another leaves out or contradicts. The fault catalog takes its English from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.faults import FaultCode
from domain.languages import Language


class Safety(StrEnum):
    """A safety instruction some advice must carry, with how each language says it."""

    DOORS_SHUT = "doors_shut"
    COOL_BOX = "cool_box"
    STOP_CHARGING = "stop_charging"
    AWAY_FROM_FLAMMABLES = "away_from_flammables"
    SMOKE_CALL_FIRE_SERVICE = "smoke_call_fire_service"
    NO_NEW_WASH = "no_new_wash"
    DOOR_SHUT_WITH_WATER = "door_shut_with_water"


# A phrase each language's advice contains when it carries the instruction.
SAFETY: Mapping[Safety, Mapping[Language, str]] = {
    Safety.DOORS_SHUT: {
        Language.EN: "Keep the doors shut",
        Language.ZH: "保持冰箱门关闭",
        Language.JA: "扉を閉めたまま",
    },
    Safety.COOL_BOX: {
        Language.EN: "cool box with ice",
        Language.ZH: "放冰块的保温箱",
        Language.JA: "氷を入れたクーラーボックス",
    },
    Safety.STOP_CHARGING: {
        Language.EN: "stop charging",
        Language.ZH: "停止充电",
        Language.JA: "充電を止め",
    },
    Safety.AWAY_FROM_FLAMMABLES: {
        Language.EN: "away from anything flammable",
        Language.ZH: "远离易燃物",
        Language.JA: "燃えやすい物を離して",
    },
    Safety.SMOKE_CALL_FIRE_SERVICE: {
        Language.EN: "leave the room and call the fire service",
        Language.ZH: "离开并拨打119",
        Language.JA: "離れて119番に通報",
    },
    Safety.NO_NEW_WASH: {
        Language.EN: "Do not start another wash",
        Language.ZH: "不要再启动洗衣",
        Language.JA: "新しい洗濯を始めないで",
    },
    Safety.DOOR_SHUT_WITH_WATER: {
        Language.EN: "keep the door shut",
        Language.ZH: "不要强行打开有水的机门",
        Language.JA: "扉を無理に開けないで",
    },
}


@dataclass(frozen=True, slots=True)
class FaultText:
    """One fault's customer texts: (title, advice) per language, and its safety lines."""

    texts: Mapping[Language, tuple[str, str]]
    safety: tuple[Safety, ...] = ()


_FAULT_TEXTS: dict[FaultCode, FaultText] = {
    FaultCode.FRIDGE_TEMP_DRIFT: FaultText(
        {
            Language.EN: (
                "Fridge losing cooling capacity",
                "Your fridge is struggling to stay cold. Keep the door closed as much as you "
                "can, move medicines and fresh meat or fish to the coldest shelf or a cool "
                "box, and leave space around the back of the fridge for air to flow.",
            ),
            Language.ZH: (
                "冰箱制冷能力下降",
                "请尽量少开冰箱门，把药品和生鲜肉类移到最冷的一层或保温箱，并让冰箱背面保持通风。",
            ),
            Language.JA: (
                "冷蔵庫の冷えが弱くなっています",
                "扉の開け閉めを控え、薬や生鮮品はいちばん冷える段かクーラーボックスへ移してください。"
                "冷蔵庫の背面の通気をふさがないでください。",
            ),
        }
    ),
    FaultCode.FRIDGE_COMPRESSOR_FAILURE: FaultText(
        {
            Language.EN: (
                "Fridge compressor not running",
                "Your fridge and freezer have stopped cooling. Keep the doors shut: food stays "
                "safe for about four hours in the fridge and a day in a full freezer. Move "
                "medicines and perishables to a cool box with ice if you can. We are arranging "
                "a technician and will tell you when they come.",
            ),
            Language.ZH: (
                "冰箱压缩机停止工作",
                "冰箱和冷冻室都已停止制冷。请保持冰箱门关闭：冷藏室可保冷约4小时，装满的冷冻室约一天。"
                "如有可能，请把药品和易坏的食物移到放冰块的保温箱。我们正在安排技师，确定时间后会通知您。",
            ),
            Language.JA: (
                "冷蔵庫のコンプレッサーが止まっています",
                "冷蔵室も冷凍室も冷えなくなっています。扉を閉めたままにしてください（冷蔵室は約4時間、"
                "満杯の冷凍室は約1日冷えが保たれます）。できれば薬や傷みやすい食品は氷を入れたクーラー"
                "ボックスへ移してください。技術者を手配中で、日時が決まりしだいお知らせします。",
            ),
        },
        (Safety.DOORS_SHUT, Safety.COOL_BOX),
    ),
    FaultCode.FRIDGE_DOOR_SEAL_LEAK: FaultText(
        {
            Language.EN: (
                "Fridge door seal leaking",
                "Please check the fridge door closes fully and nothing is blocking it. Until "
                "the seal is replaced, avoid opening it more than needed.",
            ),
            Language.ZH: (
                "冰箱门封条漏气",
                "请检查门是否被物品挡住，关门时确认完全关严。更换封条前请尽量少开门。",
            ),
            Language.JA: (
                "冷蔵庫の扉のパッキンから冷気が漏れています",
                "物が挟まっていないか確認し、扉がきちんと閉まっているか確かめてください。"
                "パッキンを交換するまでは扉の開け閉めを控えてください。",
            ),
        }
    ),
    FaultCode.WASHER_IMBALANCE: FaultText(
        {
            Language.EN: (
                "Washer drum out of balance",
                "Your washing machine is shaking more than it should when it spins. Avoid very "
                "small or single heavy loads (one blanket) until it is checked.",
            ),
            Language.ZH: (
                "洗衣机甩干不平衡",
                "洗衣机甩干时抖动过大。检修前请避免只洗很少的衣物或单件厚重衣物（如一条毛毯）。",
            ),
            Language.JA: (
                "洗濯機の脱水時にバランスが崩れています",
                "脱水時の揺れが大きくなっています。点検までは、ごく少量や毛布1枚だけのような重い物"
                "単独での洗濯は避けてください。",
            ),
        }
    ),
    FaultCode.WASHER_DRAIN_BLOCKED: FaultText(
        {
            Language.EN: (
                "Washer not draining",
                "Your washing machine is having trouble draining. Do not start another wash, "
                "and if it has stopped with water inside, keep the door shut. If you are "
                "comfortable doing so, drain it into a tray and clean the small filter behind "
                "the front flap.",
            ),
            Language.ZH: (
                "洗衣机排水受阻",
                "洗衣机排水不畅。请不要再启动洗衣；如果机内有水，不要强行打开有水的机门。"
                "如您愿意，可用托盘接水排空，并清洗前面小盖板后的过滤器。",
            ),
            Language.JA: (
                "洗濯機の排水が詰まっています",
                "排水がうまくいっていません。新しい洗濯を始めないでください。水が残っている間は"
                "扉を無理に開けないでください。できる方は、受け皿に水を抜き、前面の小さなふたの奥の"
                "フィルターを掃除してください。",
            ),
        },
        (Safety.NO_NEW_WASH, Safety.DOOR_SHUT_WITH_WATER),
    ),
    FaultCode.WASHER_BEARING_WEAR: FaultText(
        {
            Language.EN: (
                "Washer drum bearings wearing",
                "Your washing machine's drum bearings are wearing out. It can still be used "
                "for now; a technician will replace them before they fail.",
            ),
            Language.ZH: (
                "洗衣机轴承磨损",
                "洗衣机滚筒轴承正在磨损。目前仍可使用，技师会在轴承损坏前为您更换。",
            ),
            Language.JA: (
                "洗濯機のベアリングが摩耗しています",
                "ドラムのベアリングが摩耗しています。当面は使い続けられます。壊れる前に技術者が"
                "交換します。",
            ),
        }
    ),
    FaultCode.AC_REFRIGERANT_LOW: FaultText(
        {
            Language.EN: (
                "Air conditioner low on refrigerant",
                "Your air conditioner is cooling less well than it should. It is safe to keep "
                "using it; a technician will find and fix the leak.",
            ),
            Language.ZH: (
                "空调冷媒不足",
                "空调制冷效果比应有的差。可以放心继续使用，技师会找到并修复泄漏。",
            ),
            Language.JA: (
                "エアコンの冷媒が不足しています",
                "冷えが本来より弱くなっています。使い続けても安全です。技術者が漏れを見つけて修理します。",
            ),
        }
    ),
    FaultCode.AC_FILTER_CLOGGED: FaultText(
        {
            Language.EN: (
                "Air conditioner filter clogged",
                "Your air conditioner's filter needs cleaning. You can rinse it under the tap "
                "and let it dry before refitting; we will check it at the next visit.",
            ),
            Language.ZH: (
                "空调滤网堵塞",
                "空调滤网需要清洁。您可以取下滤网用清水冲洗，晾干后装回；下次上门时我们会检查。",
            ),
            Language.JA: (
                "エアコンのフィルターが詰まっています",
                "フィルターの掃除が必要です。外して水洗いし、よく乾かしてから戻してください。"
                "次回の訪問時にも点検します。",
            ),
        }
    ),
    FaultCode.BATTERY_WEAR: FaultText(
        {
            Language.EN: (
                "Battery pack nearing end of life",
                "Your battery holds less charge than it used to and will need replacing soon. "
                "It is safe to keep using; we will contact you to arrange the replacement.",
            ),
            Language.ZH: (
                "电池容量衰减",
                "电池能储存的电量比以前少，需要尽快更换。可以放心继续使用，我们会联系您安排更换。",
            ),
            Language.JA: (
                "蓄電池の容量が減っています",
                "蓄えられる電気が以前より少なくなり、近く交換が必要です。使い続けても安全です。"
                "交換の日程についてご連絡します。",
            ),
        }
    ),
    FaultCode.BATTERY_OVERHEAT: FaultText(
        {
            Language.EN: (
                "Battery pack overheating",
                "Your battery is running hot. Please stop charging it, unplug it if it is safe "
                "to do so, and keep it away from anything flammable. If you see smoke or smell "
                "burning, leave the room and call the fire service. We are arranging a "
                "technician urgently.",
            ),
            Language.ZH: (
                "电池过热",
                "电池温度过高。请立即停止充电，在安全的情况下拔掉电源，让电池远离易燃物；如有冒烟或焦味，"
                "请离开并拨打119。我们正在紧急安排技师。",
            ),
            Language.JA: (
                "蓄電池が過熱しています",
                "蓄電池が熱くなっています。すぐに充電を止め、安全であれば電源を抜き、燃えやすい物を離して"
                "ください。煙や焦げたにおいがあれば部屋から離れて119番に通報してください。"
                "技術者を至急手配しています。",
            ),
        },
        (Safety.STOP_CHARGING, Safety.AWAY_FROM_FLAMMABLES, Safety.SMOKE_CALL_FIRE_SERVICE),
    ),
    FaultCode.SENSOR_STUCK: FaultText(
        {
            Language.EN: (
                "Sensor reading stuck",
                "One of your appliance's sensors seems to have stopped working. The appliance "
                "may keep running normally; a technician will replace the sensor.",
            ),
            Language.ZH: (
                "传感器读数异常",
                "设备的一个传感器似乎停止了工作。设备可能仍正常运行，技师会更换传感器。",
            ),
            Language.JA: (
                "センサーの値が変わらなくなっています",
                "センサーの一つが動かなくなったようです。機器はそのまま動く場合があります。"
                "技術者がセンサーを交換します。",
            ),
        }
    ),
    FaultCode.SENSOR_OUT_OF_RANGE: FaultText(
        {
            Language.EN: (
                "Sensor reading out of range",
                "One of your appliance's sensors is giving impossible readings. We will check "
                "it; in the meantime the appliance may behave oddly.",
            ),
            Language.ZH: (
                "传感器读数超出范围",
                "设备的一个传感器读数不可能出现。我们会检查；在此期间设备可能运行异常。",
            ),
            Language.JA: (
                "センサーの値が範囲外です",
                "センサーの一つがありえない値を示しています。点検しますが、それまで機器の動きが"
                "おかしくなることがあります。",
            ),
        }
    ),
    FaultCode.DEVICE_OFFLINE: FaultText(
        {
            Language.EN: (
                "Appliance offline",
                "We have lost contact with your appliance. Please check it has power and that "
                "your Wi-Fi is working; if it is running normally there is nothing else to do.",
            ),
            Language.ZH: (
                "设备离线",
                "我们与您的设备失去了联系。请检查设备电源和家中Wi-Fi是否正常；如果设备运行正常，则无需其他操作。",
            ),
            Language.JA: (
                "機器がオフラインです",
                "機器との通信が途切れています。電源とご自宅のWi-Fiを確認してください。"
                "正常に動いていれば、ほかに必要なことはありません。",
            ),
        }
    ),
    FaultCode.APPLIANCE_ERROR_CODE: FaultText(
        {
            Language.EN: (
                "Appliance reported an error code",
                "Your appliance has reported a fault code. We are looking into it and will be "
                "in touch if a visit is needed.",
            ),
            Language.ZH: (
                "设备报告故障代码",
                "您的设备报告了故障代码。我们正在查看，如需上门会与您联系。",
            ),
            Language.JA: (
                "機器がエラーコードを報告しています",
                "機器がエラーコードを報告しました。確認中です。訪問が必要な場合はご連絡します。",
            ),
        }
    ),
    FaultCode.UNCLASSIFIED_ANOMALY: FaultText(
        {
            Language.EN: (
                "Unusual behaviour, not yet diagnosed",
                "We have noticed something unusual in how your appliance is running. There is "
                "nothing you need to do; we will contact you if it needs attention.",
            ),
            Language.ZH: (
                "设备运行异常，尚未诊断",
                "我们注意到您的设备运行有些异常。您无需任何操作；如需处理我们会联系您。",
            ),
            Language.JA: (
                "いつもと違う動きがあります（診断中）",
                "機器の動きにいつもと違う点が見られます。お客様の操作は不要です。対応が必要な"
                "場合はご連絡します。",
            ),
        }
    ),
}
FAULT_TEXTS: Mapping[FaultCode, FaultText] = _FAULT_TEXTS


def fault_title(code: FaultCode, language: Language = Language.EN) -> str:
    return FAULT_TEXTS[code].texts[language][0]


def fault_advice(code: FaultCode, language: Language = Language.EN) -> str:
    return FAULT_TEXTS[code].texts[language][1]
