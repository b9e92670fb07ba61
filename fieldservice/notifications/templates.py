"""Message texts: one (subject, body) pair per kind and language.

Customer texts exist in every customer language (English, Chinese, Japanese), are plain and
say what to do now; technician and desk texts in English and Chinese. `render` takes a
language tag ("zh-CN"), fills the text from named fields, and falls back to English for a
kind that lacks the language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.languages import Language, language_of

LANGUAGES = tuple(language.value for language in Language)
CUSTOMER_KINDS = (
    "fault_alert",
    "visit_booked",
    "visit_rescheduled",
    "en_route",
    "resolved",
    "reopened",
    "closed",
    "auto_resolved",
    "cancelled",
    "follow_up",
    "household_notice",
)

APPLIANCE_NAMES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "fridge": "fridge",
        "washer": "washing machine",
        "air_conditioner": "air conditioner",
        "battery_pack": "home battery",
    },
    "zh": {
        "fridge": "冰箱",
        "washer": "洗衣机",
        "air_conditioner": "空调",
        "battery_pack": "家用电池",
    },
    "ja": {
        "fridge": "冷蔵庫",
        "washer": "洗濯機",
        "air_conditioner": "エアコン",
        "battery_pack": "家庭用バッテリー",
    },
}

TEMPLATES: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "fault_alert": {
        "en": (
            "Your {appliance} needs attention",
            "We noticed a problem with your {appliance} ({model}): {title}.\n"
            "What to do now: {advice}\n"
            "We are booking a technician and will tell you when they come. "
            "You don't need to call us.",
        ),
        "zh": (
            "您的{appliance}需要检修",
            "我们发现您的{appliance}（{model}）出现问题：{title}。\n"
            "现在请您：{advice}\n"
            "我们正在为您安排维修技师，确定上门时间后会通知您，无需致电。",
        ),
        "ja": (
            "{appliance}の点検が必要です",
            "お使いの{appliance}（{model}）に不具合を検知しました：{title}。\n"
            "今すぐしていただきたいこと：{advice}\n"
            "技術者を手配中です。訪問日時が決まりしだいお知らせします。お電話は不要です。",
        ),
    },
    "visit_booked": {
        "en": (
            "Technician booked for your {appliance}: {date} {window}",
            "{technician} will visit on {date} between {window} to fix your {appliance} "
            "({title}).\nMeanwhile: {advice}",
        ),
        "zh": (
            "已为您的{appliance}预约技师：{date} {window}",
            "技师{technician}将于{date} {window}上门维修您的{appliance}（{title}）。\n"
            "在此之前请您：{advice}",
        ),
        "ja": (
            "{appliance}の修理を予約しました：{date} {window}",
            "{technician}が{date} {window}に伺い、{appliance}を修理します（{title}）。\n"
            "それまでの間：{advice}",
        ),
    },
    "visit_rescheduled": {
        "en": (
            "New time for your {appliance} repair: {date} {window}",
            "The visit to fix your {appliance} has moved: {technician} now arrives on {date} "
            "between {window}. Sorry for the change.",
        ),
        "zh": (
            "您的{appliance}维修时间已调整：{date} {window}",
            "维修您的{appliance}的上门时间有变：技师{technician}将于{date} {window}到达。"
            "抱歉给您带来不便。",
        ),
        "ja": (
            "{appliance}の修理日時が変わりました：{date} {window}",
            "{appliance}の修理の訪問日時が変更になりました。"
            "{technician}が{date} {window}に伺います。"
            "ご迷惑をおかけして申し訳ありません。",
        ),
    },
    "en_route": {
        "en": (
            "{technician} is on the way",
            "{technician} is on the way to fix your {appliance} and should arrive by {window_end}.",
        ),
        "zh": (
            "技师{technician}正在路上",
            "技师{technician}正在前往维修您的{appliance}，预计{window_end}前到达。",
        ),
        "ja": (
            "{technician}がそちらに向かっています",
            "{technician}が{appliance}の修理に向かっています。{window_end}までに到着の予定です。",
        ),
    },
    "resolved": {
        "en": (
            "{technician} has finished the work on your {appliance}",
            "{technician} reports the work on your {appliance} done. We will check its readings "
            "over the next {quiet_hours} hours and tell you once they confirm the repair; you "
            "don't need to do anything.",
        ),
        "zh": (
            "技师{technician}已完成对您的{appliance}的检修",
            "技师{technician}报告检修已完成。接下来{quiet_hours}小时我们会查看设备数据，"
            "确认故障排除后再通知您，您无需任何操作。",
        ),
        "ja": (
            "{technician}が{appliance}の作業を終えました",
            "{technician}から作業完了の報告がありました。今後{quiet_hours}時間、機器のデータで"
            "修理を確認し、確認できしだいお知らせします。お客様の操作は不要です。",
        ),
    },
    "reopened": {
        "en": (
            "Your {appliance} still needs attention",
            "Your {appliance} still shows the problem ({title}). We are sending a technician "
            "back at no cost and will tell you when.\nMeanwhile: {advice}",
        ),
        "zh": (
            "您的{appliance}仍需检修",
            "您的{appliance}仍有同样的问题（{title}）。我们将免费再次安排技师上门，并会通知您时间。\n在此之前请您：{advice}",
        ),
        "ja": (
            "{appliance}にまだ点検が必要です",
            "{appliance}にまだ同じ不具合が見られます（{title}）。無償で技術者を再度手配し、"
            "日時をお知らせします。\nそれまでの間：{advice}",
        ),
    },
    "closed": {
        "en": (
            "Repair confirmed: your {appliance} is working normally",
            "Your {appliance} has run normally since the repair, so we have closed the case.",
        ),
        "zh": (
            "维修已确认：您的{appliance}运行正常",
            "维修后您的{appliance}一直运行正常，本次服务已完成。",
        ),
        "ja": (
            "修理を確認しました：{appliance}は正常に動作しています",
            "修理後、{appliance}は正常に動作しているため、この件を完了とします。",
        ),
    },
    "auto_resolved": {
        "en": (
            "Your {appliance} is back to normal",
            "The problem with your {appliance} ({title}) has cleared by itself, so no visit "
            "is needed. We keep watching it.",
        ),
        "zh": (
            "您的{appliance}已恢复正常",
            "您的{appliance}的问题（{title}）已自行恢复，无需上门。我们会继续监测。",
        ),
        "ja": (
            "{appliance}は正常に戻りました",
            "{appliance}の不具合（{title}）は自然に解消したため、訪問は不要です。引き続き見守ります。",
        ),
    },
    "cancelled": {
        "en": ("Visit cancelled", "The service visit for your {appliance} has been cancelled."),
        "zh": ("上门服务已取消", "您的{appliance}的上门维修已取消。"),
        "ja": (
            "訪問を取り消しました",
            "{appliance}の修理訪問は取り消されました。",
        ),
    },
    "follow_up": {
        "en": (
            "How did we do?",
            "{technician} repaired your {appliance} recently. How was the visit? "
            "Rate it from 1 to 5: {rating_url}",
        ),
        "zh": (
            "请评价本次服务",
            "技师{technician}近期为您维修了{appliance}。请为本次服务打分（1-5分）：{rating_url}",
        ),
        "ja": (
            "サービスはいかがでしたか",
            "先日{technician}が{appliance}を修理しました。訪問はいかがでしたか。"
            "1〜5で評価してください：{rating_url}",
        ),
    },
    "household_notice": {
        "en": (
            "{count} of your appliances went offline at once",
            "{count} appliances at your home ({appliances}) stopped reporting at the same "
            "time. This is usually a power cut or the Wi-Fi router, not the appliances: "
            "please check the fuse box and restart the router. No technician is needed "
            "for now; we will tell you if anything else looks wrong.",
        ),
        "zh": (
            "您家中{count}台设备同时离线",
            "您家中的{count}台设备（{appliances}）同时停止上报数据。这通常是停电或Wi-Fi路由器问题，"
            "而不是设备故障：请检查电闸并重启路由器。目前无需技师上门，如有其他异常我们会通知您。",
        ),
        "ja": (
            "ご家庭の{count}台の機器が同時にオフラインになりました",
            "ご家庭の{count}台の機器（{appliances}）が同時に通信を停止しました。これは通常、機器の故障ではなく"
            "停電かWi-Fiルーターによるものです。ブレーカーを確認し、ルーターを再起動してください。"
            "現時点で技術者の訪問は不要です。ほかに異常があればお知らせします。",
        ),
    },
    "work_order": {
        "en": (
            "Work order #{ticket_id}: {title} — {date} {window}",
            "Job #{ticket_id} ({position} on your route for {date}, arrive {window}).\n"
            "Customer: {customer}, phone {phone}.\n"
            "Appliance: {appliance} {model}, serial {serial}, warranty {warranty}.\n"
            "Address: {address} (map: {map}). Access: {access_notes}\n"
            "Diagnosis: {probable_cause}\nDo: {recommended_action}\nBring: {parts}\n"
            "Estimated {minutes} min. Full sheet: {url}",
        ),
        "zh": (
            "工单 #{ticket_id}：{title} — {date} {window}",
            "工单 #{ticket_id}（{date}路线第{position}站，{window}到达）。\n"
            "客户：{customer}，电话 {phone}。\n"
            "设备：{appliance} {model}，序列号 {serial}，保修 {warranty}。\n"
            "地址：{address}（地图：{map}）。入户须知：{access_notes}\n"
            "诊断：{probable_cause}\n处理：{recommended_action}\n携带：{parts}\n"
            "预计{minutes}分钟。完整工单：{url}",
        ),
    },
    "job_withdrawn": {
        "en": ("Job #{ticket_id} withdrawn", "Job #{ticket_id} is no longer yours: {reason}."),
        "zh": ("工单 #{ticket_id} 已撤回", "工单 #{ticket_id} 已不再分配给您：{reason}。"),
    },
    "sla_escalation": {
        "en": (
            "SLA {state}: ticket #{ticket_id} ({tier}) must {milestone} by {deadline}",
            "Ticket #{ticket_id} ({fault_code}, {tier} customer {customer_id}) is {state} on its "
            "{milestone} deadline {deadline}. Status: {status}. Priority raised to {priority}.",
        ),
        "zh": (
            "SLA {state}：工单 #{ticket_id}（{tier}）须在{deadline}前{milestone}",
            "工单 #{ticket_id}（{fault_code}，{tier}客户 {customer_id}）的{milestone}时限{deadline}"
            "状态为{state}。当前状态：{status}。优先级已提升至{priority}。",
        ),
    },
    "unassignable": {
        "en": (
            "Ticket #{ticket_id} waits for a technician",
            "Nobody could be dispatched to ticket #{ticket_id} ({fault_code}, device "
            "{device_id}): {reason}. It stays queued and is retried every round.",
        ),
        "zh": (
            "工单 #{ticket_id} 暂无技师",
            "工单 #{ticket_id}（{fault_code}，设备 {device_id}）无法派工：{reason}。"
            "已排队，每轮重试。",
        ),
    },
    "sign_in_footer": {
        "en": ("", "Follow the repair, change the time or cancel: {link}"),
        "zh": ("", "查看维修进度、改约或取消：{link}"),
        "ja": ("", "修理の状況確認・日時の変更・キャンセルはこちら：{link}"),
    },
    "cohort_alert": {
        "en": (
            "Fault rate high: {dimension} {cohort} ({ratio}× the rest of the fleet)",
            "{faults} faults in {exposure_days} device-days for {dimension} {cohort} "
            "({devices} devices) against {rest_rate} per 1000 device-days in the rest of the "
            "fleet: {ratio}× (one-sided p = {p_value}, false-discovery-adjusted q = {q_value}). "
            "Check the console's cohort page; a batch problem may need a recall.",
        ),
        "zh": (
            "故障率偏高：{dimension} {cohort}（为其余设备的{ratio}倍）",
            "{dimension} {cohort}（{devices}台设备）在{exposure_days}设备日内出现{faults}次故障，"
            "其余设备为每千设备日{rest_rate}次：{ratio}倍（单侧 p = {p_value}，错误发现率校正后 "
            "q = {q_value}）。请查看控制台的群组页面；批次问题可能需要召回。",
        ),
    },
    "repair_failed": {
        "en": (
            "Repair did not hold: ticket #{ticket_id} reopened",
            "Device {device_id} after {technician}'s repair: {reason}. "
            "Ticket #{ticket_id} is reopened for dispatch.",
        ),
        "zh": (
            "维修未生效：工单 #{ticket_id} 已重开",
            "设备 {device_id} 在技师{technician}维修后：{reason}。"
            "工单 #{ticket_id} 已重新派工。",
        ),
    },
}


def appliance_name(device_type: str, language: str) -> str:
    names = APPLIANCE_NAMES.get(language_of(language).value) or APPLIANCE_NAMES["en"]
    return names.get(device_type, device_type.replace("_", " "))


def speaks(kind: str, language: str) -> bool:
    """Whether `kind` has a text in `language` (a tag such as "zh-CN")."""
    return language_of(language).value in TEMPLATES[kind]


def render(kind: str, language: str, fields: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of `kind` in `language`, a language tag such as "zh-CN" (English if
    the kind lacks it); a missing field raises."""
    variants = TEMPLATES[kind]
    subject, body = variants.get(language_of(language).value) or variants["en"]
    return subject.format_map(fields), body.format_map(fields)
