"""The UI's words in Chinese (default) and English; ``?lang=en`` switches and is remembered in a cookie."""

from __future__ import annotations

WORDS = {
    "app": ("水保 · 水土保持监测监管平台", "Shuibao · soil and water conservation platform"),
    "brand": ("水保", "Shuibao"),  # the tab title's tail: "<page> · 水保"
    "not_found": ("未找到", "Not found"), "back_to": ("返回", "Back to: "),
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
    "object": ("对象", "Object"), "when": ("时间", "When"), "before": ("修改前", "Before"),
    "after": ("修改后", "After"),
    "rate": ("水土保持率", "Conservation rate"), "category": ("合规性", "Compliance"), "synthetic": (
        "演示数据为合成数据，不代表重庆实际情况", "Demo data are SYNTHETIC, not Chongqing's"),
    "language": ("English", "中文"), "no_run": ("尚无监测运行", "No monitoring run yet"),
    # districts, projects, runs, assessment pages
    "district": ("区县", "District"), "district_page": ("区县概况", "District overview"),
    "region": ("片区", "Region"), "rate_2020": ("2020年水土保持率", "2020 rate"),
    "latest_run": ("最新监测运行", "Latest monitoring run"), "year": ("年份", "Year"),
    "projects_by_status": ("生产建设项目（按状态）", "Projects by status"), "count": ("数量", "Count"),
    "open_cases": ("未销号案件", "Open cases"),
    "treatment_progress": ("综合治理进展（专栏3）", "Treatment progress (Table 3)"),
    "kind": ("类型", "Type"), "done_km2": ("完成面积（km²）", "Done (km²)"),
    "share_of_city": ("占全市比例", "Share of city"),
    "assessment": ("目标责任考核", "Assessment"), "total_score": ("总分", "Total score"), "grade": ("等级", "Grade"),
    "project": ("项目", "Project"), "project_list": ("生产建设项目", "Projects"), "code": ("编号", "Code"),
    "name": ("名称", "Name"), "builder": ("建设单位", "Builder"), "industry": ("行业", "Industry"),
    "status": ("状态", "Status"), "approval": ("批复", "Approval"), "area_m2": ("面积（m²）", "Area (m²)"),
    "search": ("搜索编号或名称", "Search code or name"), "filter": ("筛选", "Filter"), "all": ("全部", "All"),
    "previous": ("上一页", "Previous"), "next": ("下一页", "Next"), "total": ("合计", "Total"),
    # the shared pager (static/pages.js): {page}, {pages}, {total} filled in by the browser
    "page_of": ("第 {page}/{pages} 页 · 共 {total} 条", "page {page} of {pages} · {total} records"),
    "fields": ("项目信息", "Fields"), "areas": ("防治责任范围", "Responsibility areas"), "version": ("版本", "Version"),
    "current": ("现行", "current"), "superseded": ("已替代", "superseded"),
    "lifecycle": ("项目生命周期", "Lifecycle"), "event": ("事件", "Event"),
    "findings": ("合规性分析结果", "Compliance findings"), "patch": ("图斑", "Patch"), "period": ("期次", "Period"),
    "reason": ("判定依据", "Reason"), "fees": ("水土保持补偿费", "Compensation fees"),
    "amount": ("金额（元）", "Amount (yuan)"), "paid": ("已缴（元）", "Paid (yuan)"),
    "outstanding": ("欠缴（元）", "Outstanding (yuan)"), "acceptance_filing": ("验收报备", "Acceptance filing"),
    "runs": ("监测运行", "Monitoring runs"), "run_page": ("监测运行详情", "Monitoring run"),
    "created": ("生成时间", "Created"), "parameters": ("参数与来源", "Parameters and provenance"),
    "grid": ("格网", "Grid"), "cell_size": ("像元大小（m）", "Cell size (m)"), "software": ("软件版本", "Software"),
    "units": ("分区统计", "Units"), "level": ("层级", "Level"), "total_km2": ("总面积（km²）", "Total (km²)"),
    "slight": ("微度", "Slight"), "light": ("轻度", "Light"), "moderate": ("中度", "Moderate"),
    "intense": ("强烈", "Intense"), "very_intense": ("极强烈", "Very intense"), "severe": ("剧烈", "Severe"),
    "loss_km2": ("水土流失面积（km²）", "Soil loss area (km²)"), "products": ("成果文件", "Products"),
    "file": ("文件", "File"), "size": ("大小", "Size"), "download": ("下载", "Download"),
    "csv_download": ("下载CSV", "Download CSV"), "no_data": ("暂无记录", "No records"),
    "modified": ("运行后已被改写", "changed since the run"), "spec": ("运行配置", "Spec"),
    "synthetic_run": ("合成数据", "SYNTHETIC"), "output_dir": ("输出目录", "Output folder"),
    # the map
    "grade_layer": ("土壤侵蚀强度", "Erosion grade"), "soil_loss": ("土壤侵蚀模数", "Soil loss"),
    "stations": ("监测站点", "Monitoring stations"),
    "partial": ("仅显示一部分，请放大", "only part is shown; zoom in"),
    "cat_compliant": ("合规", "compliant"), "cat_out_of_bounds": ("疑似超出防治责任范围", "out of bounds"),
    "cat_unapproved": ("疑似未批先建", "unapproved"), "cat_relocated": ("疑似建设地点变更", "relocated"),
    "cat_not_project": ("非生产建设项目", "not a project"),
    "station_comprehensive": ("综合监测站", "comprehensive"), "station_runoff_plot": ("径流小区", "runoff plot"),
    "station_rain_gauge": ("雨量站", "rain gauge"), "station_hydrological": ("水文站", "hydrological"),
    # the data-management page (/admin)
    "admin": ("数据管理", "Data management"),
    "admin_only": ("仅市级管理员可以导入数据和运行分析。",
                   "Only city administrators may import data and run analyses."),
    "admin_intro": ("每项导入逐行检查，任一行被拒绝则不存储任何内容；每次写入都记入审计日志。",
                    "Every import is checked row by row and stores nothing if any row is refused; every write is "
                    "recorded in the audit log."),
    "import_projects": ("导入生产建设项目", "Import projects"),
    "attributes_csv": ("属性表（CSV）", "Attributes (CSV)"), "optional": ("可选", "optional"),
    "layer": ("图层", "Layer"), "run_compliance": ("合规性分析", "Compliance analysis"),
    "import_treatment": ("导入治理图斑", "Import treatment patches"),
    "import_stations": ("导入监测站点", "Import stations"),
    "import_observations": ("导入站点观测数据", "Import station observations"),
    "variable": ("观测要素", "Variable"), "run_warning": ("暴雨预警", "Rain warning"),
    "run_assessment": ("目标责任考核评分", "Run the assessment"),
    "import_patches": ("导入扰动图斑", "Import disturbance patches"),
    # the admin forms' mapping step (字段映射)
    "mapping": ("字段映射", "Field mapping"),
    "mapping_intro": ("为每个字段选择文件中的列；已按字段别名或该来源上次保存的映射预填。",
                      "Choose the file's column for each field; prefilled from the field's aliases or the mapping "
                      "last remembered for this source."),
    "mapping_source": ("数据来源名称", "Source name"),
    "mapping_source_hint": ("如“万州区项目台账”；同一来源下次导入时沿用本次映射",
                            "e.g. Wanzhou project ledger; the next file of this source comes with this mapping"),
    "mapping_field": ("字段", "Field"), "mapping_column": ("文件中的列", "Column of the file"),
    "mapping_none": ("（文件中没有）", "(not in the file)"), "mapping_required": ("必填", "required"),
    "mapping_remembered": ("已按该来源上次保存的映射预填", "Prefilled from the mapping remembered for this source"),
    "mapping_aliases": ("已按字段别名预填", "Prefilled from the fields' names and aliases"),
    "mapping_loading": ("正在读取文件的列…", "Reading the file's columns…"),
    "mapping_area_note": ("没有时按图形计算面积，并标记为计算值", "none: the polygon's area, flagged as computed"),
    # the case page: corrections of the ledger
    "void": ("作废", "Void"), "void_reason": ("作废理由", "Reason for voiding"),
    "voided": ("已作废", "voided"), "correction": ("更正", "Correction"),
    # records for people (the codes' labels are in shuibao/vocabulary/data/labels.csv)
    "title": ("标题", "Title"), "evidence_records": ("依据", "Records"), "overdue": ("逾期", "Overdue"), "days": ("天", "days"),
    "pp": ("个百分点", "percentage points"), "area_hm2": ("面积（hm²）", "Area (hm²)"),
    "provenance": ("来源记录", "Provenance"), "crs": ("坐标系", "Coordinate system"), "scheme": ("考核方案", "Scheme"),
    # run page records: the spec and provenance of a run as labelled records (labels of their keys in the
    # vocabulary's run_record group)
    "run_basics": ("基本信息", "The run"), "run_inputs": ("输入数据", "Inputs"),
    "run_parameters": ("模型参数", "Parameters"), "run_tables": ("自定义查找表", "Own lookup tables"),
    "run_execution": ("执行方式", "Execution"), "run_software": ("软件", "Software"),
    "run_grid": ("网格", "Grid"), "run_steps": ("计算步骤", "Steps"), "run_grades": ("侵蚀强度分级", "Erosion grades"),
    "run_input": ("输入", "Input"), "run_default": ("默认", "default"),
    "run_shipped_tables": ("使用平台内置的查找表", "The shipped lookup tables"),
    "run_districts_store": ("数据库中的区县边界", "District boundaries in the database"),
    "run_reused": ("沿用上次结果", "Reused"), "run_seconds": ("用时（秒）", "Time (s)"),
    "run_outputs": ("输出文件数", "Files written"), "run_result": ("结果", "Result"),
    "run_validate": ("校验用时（秒）", "Validation (s)"), "run_raw_json": ("下载原始记录（供专业人员）", "Raw record, JSON (for experts)"),
    "run_loss_grades": ("计入水土流失的强度", "Grades counted as soil loss"), "run_code": ("编码", "Code"),
    "no_data_note": ("“—”表示该区县没有该指标的数据，不是0分；按考核方案的设置，默认不计入（总分按有数据的指标折算为百分制）。",
                     "'—' means the district has no data for that indicator, not a score of 0; by the scheme's "
                     "setting it is left out by default (the total is scaled to 100 over the indicators "
                     "with data)."),
    # maps: the map page's tools and legends, the small maps of the district, project and case pages
    "lon": ("经度", "lon"), "lat": ("纬度", "lat"), "tap_coords": ("点按地图显示坐标", "Tap the map for its coordinates"), "basemap": ("底图", "Base map"),
    "map_search": ("搜索区县、项目、案件或图斑", "Search a district, project, case or patch"),
    "search_none": ("未找到", "Nothing found"), "search_hit": ("搜索结果", "Search result"),
    "not_analysed": ("未经合规性分析", "Not analysed"), "current_area": ("防治责任范围（现行）", "Responsibility area (current)"),
    "superseded_area": ("防治责任范围（已替代）", "Responsibility area (superseded)"),
    "minimap": ("位置图", "Location map"), "this_district": ("本区县", "This district"),
    "other_districts": ("其他区县", "Other districts"), "project_patches": ("关联扰动图斑", "Patches found for it"),
    "case_patch": ("案件图斑", "The case's patch"), "case_district": ("所在区县", "Its district"),
    "no_place": ("没有空间位置记录", "No location on record"),
}


def words(lang: str) -> dict[str, str]:
    i = 1 if lang == "en" else 0
    return {k: v[i] for k, v in WORDS.items()}


LANG_COOKIE = "shuibao_lang"
ERROR_LANGUAGE: str | None = None  # tests pin English; None: the order of :func:`request_language`


def request_language(request) -> str:
    """The language of an answer's messages: ``?lang``, the UI's cookie, then Accept-Language, then
    ``SHUIBAO_LANGUAGE`` (the settings' ``language``, default zh)."""
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in ("zh", "en"):
        return cookie
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in ("zh", "en"):
            return tag
    if ERROR_LANGUAGE is not None:
        return ERROR_LANGUAGE
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "language", "zh") or "zh"
