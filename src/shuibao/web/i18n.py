"""The UI's words in Chinese (default) and English; ``?lang=en`` switches and is remembered in a cookie."""

from __future__ import annotations

WORDS = {
    "app": ("水保 · 水土保持监测监管平台", "Shuibao · soil and water conservation platform"),
    "dashboard": ("总览", "Dashboard"), "map": ("地图", "Map"), "cases": ("台账", "Cases"),
    "audit": ("审计日志", "Audit log"), "login": ("登录", "Log in"), "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"), "password": ("密码", "Password"),
    "city_rate": ("全市水土保持率", "City conservation rate"), "target": ("2025年目标", "2025 target"),
    "gap": ("距目标", "Gap to target"), "trend": ("历年水土保持率", "Rate by year"), "regions": ("一区两群", "Regions"),
    "run": ("监测运行", "Monitoring run"), "layers": ("图层", "Layers"), "districts": ("区县", "Districts"),
    "by_rate": ("按水土保持率", "by rate"), "by_gap": ("按距目标差距", "by gap to target"),
    "patches": ("扰动图斑", "Disturbance patches"), "projects": ("生产建设项目", "Projects"),
    "treatment": ("治理图斑", "Treatment patches"), "legend": ("图例", "Legend"),
    "open_case": ("立案", "Open a case"), "case": ("案件", "Case"), "state": ("状态", "State"),
    "deadline": ("期限", "Deadline"), "step": ("办理环节", "Step"), "date": ("日期", "Date"), "note": ("说明", "Note"),
    "outcome": ("结论", "Outcome"), "evidence": ("佐证材料", "Evidence"), "submit": ("提交", "Submit"),
    "timeline": ("办理过程", "Timeline"), "actor": ("操作人", "Who"), "action": ("操作", "Action"),
    "object": ("对象", "Object"), "when": ("时间", "When"), "before": ("修改前", "Before"), "after": ("修改后", "After"),
    "rate": ("水土保持率", "Conservation rate"), "category": ("合规性", "Compliance"), "synthetic": (
        "演示数据为合成数据，不代表重庆实际情况", "Demo data are SYNTHETIC, not Chongqing's"),
    "language": ("English", "中文"), "no_run": ("尚无监测运行", "No monitoring run yet"),
}


def words(lang: str) -> dict[str, str]:
    i = 1 if lang == "en" else 0
    return {k: v[i] for k, v in WORDS.items()}
