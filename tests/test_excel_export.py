"""The export as a Vietnamese civil servant opens it in Excel: Vietnamese headers, a frozen header
row and a filter, dates in Vietnam's time, numbers as numbers, and a CSV that splits at ";"."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from conftest import sme_bot
from openpyxl import load_workbook

from sme_bot import loader
from sme_bot.reports.export import header
from sme_bot.scoring import score
from sme_bot.storage import Store

START = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)  # 03:30 on 3 March in Hà Nội: the day changes too
ANSWERS = {"sector": "retail", "employees": 3.0, "legal_form": "household", "revenue": "to_3", "size": "micro",
           "c_presence": ("zalo_oa", "maps"), "c_payments": ("cash_only",), "c_egov": ("none",), "s_plan": "none",
           "i_internet": ("mobile_only",), "i_accounting": "paper", "i_einvoice": "not_yet", "i_safety": ("none",),
           "o_sales": "notebook", "o_tasks": "verbal", "o_learning": "none", "k_scams": ("none",), "k_new": "no",
           "d_customers": "not_kept", "d_consent": "no"}


@pytest.fixture(scope="module")
def q():
    return loader.load("quick-check")


@pytest.fixture
def db(tmp_path, q):
    path = tmp_path / "excel.db"
    store = Store(path)
    with store.transaction():
        for i in range(3):
            store.assessments.add_whole(channel="telegram", external_id=str(2000 + i), questionnaire_id=q.id,
                                        questionnaire_version=q.version, language="vi", cohort=None,
                                        started_at=START, last_at=START + timedelta(minutes=12), answers=ANSWERS,
                                        result=score(q, ANSWERS), consent_version="2026-11")
    store.close()
    return path


def export(db, out, *args):
    result = sme_bot("export", "--db", str(db), "-q", "quick-check", "-o", str(out), *args)
    assert result.returncode == 0, result.stderr
    return out


def test_xlsx_data_sheet_reads_as_excel_users_expect(db, tmp_path, q):
    book = load_workbook(export(db, tmp_path / "out.xlsx", "--format", "xlsx"))
    sheet = book["Data"]
    head = [c.value for c in sheet[1]]
    assert head[:8] == ["Mã người trả lời", "Nhóm", "Bắt đầu", "Hoàn thành", "Bộ câu hỏi", "Phiên bản", "Kênh",
                        "Ngôn ngữ"]
    assert "Lĩnh vực hoạt động chính" in head and "Chiến lược – điểm" in head and "Chiến lược – mức" in head
    assert {"Mức", "Điểm", "Điểm tối đa", "%"} <= set(head)
    assert "Khách hàng có thể tìm thấy cơ sở của bạn ở đâu trên mạng – Google Maps" in head
    assert all(len(h) <= 140 for h in head) and len(set(head)) == len(head)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(head)).column_letter}4"
    assert all(c.font.bold for c in sheet[1])
    widths = [d.width for d in sheet.column_dimensions.values() if d.width]
    assert widths and max(widths) <= 40 and min(widths) >= 10

    row = dict(zip(head, (c for c in sheet[2]), strict=True))
    started = row["Bắt đầu"]
    # Stored 20:30 UTC on 2 March: Excel shows Vietnam's 03:30 on 3 March, as a real date.
    assert started.value == datetime(2026, 3, 3, 3, 30) and started.number_format == "dd/mm/yyyy hh:mm"
    assert row["Hoàn thành"].value == datetime(2026, 3, 3, 3, 42)
    result = score(q, ANSWERS)
    assert (row["Mức"].value, row["Mức"].data_type) == (result.level, "n")
    assert row["Điểm"].data_type == row["%"].data_type == row["Chiến lược – %"].data_type == "n"
    maps = row["Khách hàng có thể tìm thấy cơ sở của bạn ở đâu trên mạng – Google Maps"]
    assert (maps.value, maps.data_type) == (1, "n")
    assert row["Lĩnh vực hoạt động chính"].value == "Bán lẻ, bán buôn, tạp hóa"


def test_codebook_maps_headers_to_ids_and_names_levels(db, tmp_path, q):
    book = load_workbook(export(db, tmp_path / "out.xlsx", "--format", "xlsx"), read_only=True)
    codes = list(book["Codebook"].iter_rows(values_only=True))
    assert codes[0][:2] == ("header", "column")
    mapping = {row[0]: row[1] for row in codes[1:] if row[0]}
    data_head = next(book["Data"].iter_rows(max_row=1, values_only=True))
    assert {mapping[h] for h in data_head} == set(header(q, with_identities=False))
    assert mapping["Bắt đầu"] == "started_at" and mapping["Chiến lược – mức"] == "strategy_level"
    assert mapping["Khách hàng có thể tìm thấy cơ sở của bạn ở đâu trên mạng – Google Maps"] == "c_presence__maps"
    levels = {(row[7], row[8]) for row in codes if row[1] == "level"}
    assert levels == {(lv.level, lv.name.vi) for lv in q.levels}


def test_summary_sheet_is_labelled_in_the_language_asked(db, tmp_path, q):
    summary = dict(load_workbook(export(db, tmp_path / "out.xlsx", "--format", "xlsx"))["Summary"].values)
    level = score(q, ANSWERS).level
    assert (summary["Hoàn thành"], summary["Bắt đầu"], summary["Tỷ lệ hoàn thành %"]) == (3, 3, 100.0)
    assert summary["Phiên bản bảng hỏi"] == q.version  # the figures, like the rows, are of one version
    assert summary[f"Mức {level} · {q.levels[level].name.vi}"] == 3
    assert "Mức 0 · Chưa chuyển đổi số" in summary and "Chiến lược – trung bình %" in summary

    english = load_workbook(export(db, tmp_path / "en.xlsx", "--format", "xlsx", "--labels", "en"))
    assert dict(english["Summary"].values)["Completion rate %"] == 100.0
    head = [c.value for c in english["Data"][1]]
    assert head[:4] == ["Respondent", "Cohort", "Started", "Completed"] and "Strategy – points" in head


def test_labels_codes_keeps_the_ids(db, tmp_path, q):
    book = load_workbook(export(db, tmp_path / "codes.xlsx", "--format", "xlsx", "--labels", "codes"))
    assert [c.value for c in book["Data"][1]] == header(q, with_identities=False)
    assert "completed" in dict(book["Summary"].values)


def test_csv_with_semicolons_opens_in_a_vietnamese_excel(db, tmp_path, q):
    raw = export(db, tmp_path / "out.csv", "--csv-separator", ";").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == header(q, with_identities=False, labels="vi") and table[0][0] == "Mã người trả lời"
    assert len(table) == 4 and all(len(row) == len(table[0]) for row in table)
    assert table[1][table[0].index("Lĩnh vực hoạt động chính")] == "Bán lẻ, bán buôn, tạp hóa"
