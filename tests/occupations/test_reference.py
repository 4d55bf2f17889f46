import shutil

import pytest

from occupations import services
from occupations.models import (
    Level,
    Occupation,
    OccupationCategory,
    Qualification,
    Region,
    Standard,
    StandardLevel,
    WorkType,
)
from occupations.services import reference_load

pytestmark = pytest.mark.django_db

DOMAIN_OCCUPATIONS = {
    "6-31-01-03": "电工",
    "6-18-02-04": "焊工",
    "4-03-02-07": "茶艺师",
    "4-10-01-03": "保育师",
    "4-10-01-05": "养老护理员",
    "4-10-01-06": "家政服务员",
    "4-03-02-01": "中式烹调师",
    "4-03-02-02": "中式面点师",
    "4-03-02-04": "西式面点师",
    "4-10-03-01": "美容师",
    "4-10-03-02": "美发师",
    "4-14-02-02": "健康管理师",
    "4-07-03-04": "企业人力资源管理师",
    "4-12-01-01": "汽车维修工",
    "6-18-01-01": "车工",
    "6-18-01-02": "铣工",
    "6-20-01-01": "装配钳工",
    "6-31-01-02": "机修钳工",
    "6-29-01-01": "砌筑工",
    "6-29-01-04": "钢筋工",
    "6-29-03-03": "电梯安装维修工",
    "4-01-06-01": "电子商务师",
    "4-04-05-05": "人工智能训练师",
    "6-31-07-03": "工业机器人系统操作员",
}


def test_loading_twice_changes_nothing():
    before = {m: m.objects.count() for m in (Region, Level, Occupation, Qualification, Standard, StandardLevel)}
    assert reference_load() == {}
    assert {m: m.objects.count() for m in before} == before


def test_loading_restores_a_deleted_row_and_keeps_operator_edits():
    Occupation.objects.filter(code="4-03-02-07").update(name="茶艺师(运维修订)")
    Region.objects.filter(code="220882").delete()
    counts = reference_load()
    assert counts == {"Region.created": 1}
    assert Occupation.objects.get(code="4-03-02-07").name == "茶艺师(运维修订)"
    reference_load(update=True)
    assert Occupation.objects.get(code="4-03-02-07").name == "茶艺师"


def test_the_whole_classification_counted_by_level():
    categories = OccupationCategory.objects
    assert categories.filter(kind="major").count() == 8
    assert categories.filter(kind="middle").count() == 79
    assert categories.filter(kind="minor").count() == 450
    assert Occupation.objects.filter(source="2022正式版").count() == 1639
    assert Occupation.objects.filter(announced_year=2024).count() == 18
    assert Occupation.objects.filter(announced_year=2025).count() == 17
    assert Occupation.objects.count() == 1639 + 35
    assert WorkType.objects.count() == 70
    assert not Occupation.objects.filter(category=None).exists()


def test_spot_checks_of_the_2022_edition():
    for code, name in [("6-31-01-03", "电工"), ("4-03-02-01", "中式烹调师"), ("4-04-05-05", "人工智能训练师")]:
        occ = Occupation.objects.select_related("category__parent__parent").get(code=code)
        assert (occ.name, occ.edition, occ.source, occ.announced_year) == (name, "2022", "2022正式版", None)
        assert occ.category.code == code[:7] and occ.category.parent.parent.kind == "major"
    assert Occupation.objects.get(code="6-31-01-03").initials == "dg"
    assert not Occupation.objects.filter(code="2-02-10-09").exists()  # a 2019 code the 2022 edition dropped
    announced = Occupation.objects.get(name="生成式人工智能系统应用员")
    assert (announced.code, announced.announced_year) == ("4-04-05-13", 2024)
    assert WorkType.objects.filter(occupation=announced, name="生成式人工智能系统测试员").exists()


def test_every_division_counted_by_level():
    assert Region.objects.filter(kind="province", edition="2022-10").count() == 31
    assert Region.objects.filter(kind="province").count() == 34  # with 台湾、香港、澳门 from GB/T 2260
    assert Region.objects.filter(kind="city").count() == 342 - 9  # 市辖区 and 省直辖县级行政区划 are not divisions
    assert Region.objects.filter(kind="county").count() == 2975
    changchun = Region.objects.get(code="220100")
    assert (changchun.name, changchun.kind, changchun.parent.code, changchun.initials) == (
        "长春市",
        "city",
        "220000",
        "ccs",
    )
    assert Region.objects.get(code="110105").full_name == "北京市朝阳区"
    assert not Region.objects.filter(code="110100").exists()


def test_all_provinces_and_jilin_prefectures():
    jilin = set(Region.objects.filter(parent__code="220000").values_list("name", flat=True))
    assert {
        "长春市",
        "吉林市",
        "四平市",
        "辽源市",
        "通化市",
        "白山市",
        "松原市",
        "白城市",
        "延边朝鲜族自治州",
    } <= jilin
    assert Region.objects.get(code="220102").full_name == "吉林省长春市南关区"


def test_domain_occupations_with_their_codes_and_a_standard_each():
    for code, name in DOMAIN_OCCUPATIONS.items():
        occ = Occupation.objects.get(code=code)
        assert occ.name == name
        standard = occ.standards.get()
        levels = {sl.level.code: sl for sl in standard.levels.select_related("level")}
        assert {"5", "4", "3", "2", "1"} <= set(levels)
        assert set(levels) - {"5", "4", "3", "2", "1"} in (set(), {"XT", "TJ", "SX"})
        assert [c["kind"] for c in levels["2"].components] == ["theory", "skills", "review"]
        assert all(c["pass_mark"] == 60 for c in levels["3"].components)
        assert levels["3"].eligibility and all(r["label"] and r["all"] for r in levels["3"].eligibility)


def test_both_eligibility_templates_are_loaded():
    old = Standard.objects.get(occupation__code="6-31-01-03")
    new = Standard.objects.get(occupation__code="4-04-05-05")
    assert old.template == "2018" and new.template == "2023"
    old_l4 = old.levels.get(level__code="4").eligibility
    assert [r["code"] for r in old_l4] == ["L5W4", "W6", "EDU_VOC"]
    new_l3 = new.levels.get(level__code="3").eligibility
    assert "JR_TITLE_W1" in [r["code"] for r in new_l3]


def test_catalogue_marks_access_cancelled_and_overlaps():
    assert Qualification.objects.filter(kind="access", status="listed").count() >= 5
    assert Qualification.objects.get(name="心理咨询师").status == "cancelled"
    jilin_own = Qualification.objects.get(scope="22")
    assert jilin_own.cancellation_basis == "吉政办发〔2017〕54号"
    electrician = Occupation.objects.get(code="6-31-01-03")
    assert "特种作业人员" in [q.name for q in electrician.licensing_overlaps.all()]
    assert Occupation.objects.get(name="消防设施操作员").qualification.kind == "access"


def test_reference_api_is_public(client):
    levels = {lv["code"]: lv for lv in client.get("/api/v1/reference/levels").json()}
    assert levels["3"]["label"] == "三级/高级工"
    assert levels["TJ"]["label"] == "特级技师" and levels["TJ"]["organisation_kinds"] == "Y"
    occ = client.get("/api/v1/reference/occupations?q=电工").json()["items"]
    assert occ[0]["code"] == "6-31-01-03" and occ[0]["licensing_overlaps"]
    std = client.get("/api/v1/reference/occupations/6-31-01-03/standard").json()
    assert len(std["levels"]) == 8 and std["occupation_code"] == "6-31-01-03"
    assert {(lv["level"], lv["level_label"]) for lv in std["levels"]} >= {("3", "三级/高级工"), ("TJ", "特级技师")}
    cancelled = client.get("/api/v1/reference/catalogue?status=cancelled").json()["items"]
    assert any(q["name"] == "心理咨询师" for q in cancelled)


def test_catalogue_and_occupation_pages(client):
    page = client.get("/reference/catalogue/").content.decode()
    assert "准入类" in page and "心理咨询师" in page
    page = client.get("/reference/occupations/?q=焊工").content.decode()
    assert "6-18-02-04" in page and "电工" not in page


def _newer_extract(tmp_path, monkeypatch, edit):
    """A copy of occupations/data/ whose 大典 extract `edit` changes, as the loader would read a newer one."""
    data = tmp_path / "data"
    shutil.copytree(services.DATA_DIR, data)
    path = data / "dadian_2022.csv"
    path.chmod(0o644)
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    monkeypatch.setattr(services, "DATA_DIR", data)


def test_update_reports_what_a_newer_extract_added_renamed_or_retired(tmp_path, monkeypatch):
    def edit(text):
        text = text.replace("4-03-02-07,茶艺师,", "4-03-02-07,茶艺师(新),")
        text = text.replace("6-18-01-02,铣工,细类,6-18-01,2022正式版\n", "")  # has a standard: kept, retired
        return text + "4-04-05-99,测试新职业,细类,4-04-05,2026新职业(人社部公告)\n"

    _newer_extract(tmp_path, monkeypatch, edit)
    counts = reference_load(update=True)
    changes = {(c.what, c.code): c for c in counts.changes}
    assert set(changes) == {("renamed", "4-03-02-07"), ("retired", "6-18-01-02"), ("added", "4-04-05-99")}
    assert str(changes[("renamed", "4-03-02-07")]).startswith("更名 4-03-02-07 茶艺师 → 茶艺师(新)")
    retired = Occupation.objects.get(code="6-18-01-02")
    assert not retired.active and retired.retired_on is not None
    assert retired.standards.exists() and changes[("retired", "6-18-01-02")].references >= 1
    assert Occupation.objects.get(code="4-04-05-99").announced_year == 2026
    assert reference_load(update=True) == {}


def test_update_moves_a_catalogue_link_typed_under_the_wrong_code():
    firefighting = Qualification.objects.get(name="消防设施操作员")
    Occupation.objects.filter(code="4-07-05-04").update(name="消防设施操作员", qualification=firefighting)
    assert reference_load() == {}  # without --update, an operator's link stays
    counts = reference_load(update=True)
    wrong = Occupation.objects.get(code="4-07-05-04")
    assert (wrong.name, wrong.qualification) == ("安全防范系统安装维护员", None)
    assert Occupation.objects.get(code="4-07-05-03").qualification == firefighting
    assert counts["Occupation.unlinked"] == 1
    assert [str(c) for c in counts.changes] == ["更名 4-07-05-04 消防设施操作员 → 安全防范系统安装维护员"]


def test_without_update_a_newer_extract_only_adds(tmp_path, monkeypatch):
    _newer_extract(tmp_path, monkeypatch, lambda t: t.replace("4-03-02-07,茶艺师,", "4-03-02-07,茶艺师(新),"))
    assert reference_load() == {}
    assert Occupation.objects.get(code="4-03-02-07").name == "茶艺师"


def test_the_command_says_how_long_it_took(capsys):
    from django.core.management import call_command

    call_command("load_reference")
    out = capsys.readouterr().out
    assert "already up to date" in out and "load_reference:" in out and out.strip().endswith(" s")
