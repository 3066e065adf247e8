#!/usr/bin/env python3
"""Golden files for the care-plan codec, written by hand from the layout (別紙 CSVファイル
レイアウト定義書) and encoded as MS932 (Python's cp932). Run it to regenerate the .CSV files;
the tests read the .CSV files, never this script.

One care manager office (1234567890, type 43) sends to one home-nursing office (2234567890,
type 13); the person is 髙橋 花子 (保険者 122203, 被保険者 0123456789). The free text carries
①, ㈱, 髙 and a quoted field with a comma, a line break and a double quote.
"""
from pathlib import Path

HERE = Path(__file__).parent
CM, NS = "1234567890_43", "2234567890_13"
V, INS, PER = "202407", "122203", "0123456789"
PLAN_DAY = "20261115"


def q(text):
    return '"' + text.replace('"', '""') + '"'


def write(name, rows):
    text = "".join(",".join(row) + "\r\n" for row in rows)
    (HERE / name).write_bytes(text.encode("cp932"))


def hosoku(month, plan_day, per=PER):
    slots = ["13", "0016765", "0009800", "0000000"] + [""] * 32
    return [V, INS, per, plan_day, q("タカハシ ハナコ"), q("髙橋 花子"), "2", "19380401", "270-0192",
            q("千葉県流山市平和台1-1-1"), q("①号室"), "0471582222", "20260401", "20260401", "20270331",
            "2", "20260401", "23", "0027048"] + slots + ["0000000", "", "", "22", "1234567890",
            "1234567890", "", month]


ISSUE = '自宅で安全に入浴したい、"できれば"毎日\r\n（転倒に注意）, 家族の負担を減らす'

files = {
    # 計画書 第1・2・3表 + 補足 (one transmission, stamp 20261120093000)
    f"UP1KYO_{CM}_{NS}_20261120093000.CSV": [[
        V, INS, PER, "20261115", "270-0192", q("千葉県流山市平和台1-1-1"), q(""),
        q("介護 次郎"), q("㈱さくらケア 居宅介護支援事業所"), "270-0192", q("千葉県流山市平和台2-2-2"), q(""),
        "1234567890", PLAN_DAY, "20240401", "21", "2", "20260401", "20260401", "20270331", "23",
        q("本人：できるだけ自宅で暮らしたい。\r\n長男：入浴の介助が負担。"), q("特になし"),
        q("転倒を防ぎ、在宅生活を続けられるよう支援します。"), "3", q("長男が日中不在のため"),
        "1234567890", ""]],
    f"UP2KYO_{CM}_{NS}_20261120093000.CSV": [
        [V, INS, PER, "20261115", PLAN_DAY, "1", q(ISSUE), "1", q("安全に入浴できる"),
         q("週2回、見守りのもとで入浴する"), q("2026年11月～2027年4月"), q("2026年11月～2027年1月"), "1",
         q("入浴の見守り・皮膚の観察"), "Y", q("訪問看護"), "2234567890", q("㈱さくら訪問看護ステーション"),
         q("週2回"), q("2026年11月～2027年1月"), "1234567890", ""],
        [V, INS, PER, "20261115", PLAN_DAY, "1", q(""), "1", q(""), q(""), q(""), q(""), "2",
         q("服薬の確認"), "N", q("家族"), "", q(""), q("毎日"), q("2026年11月～2027年1月"), "1234567890", ""],
    ],
    f"UP3KYO_{CM}_{NS}_20261120093000.CSV": [
        [V, INS, PER, "20261115", PLAN_DAY, q("訪問看護"), "2", "1000", "1100", q(""), "", "", q("")],
        [V, INS, PER, "20261115", PLAN_DAY, q("訪問看護"), "5", "1000", "1100", q(""), "", "", q("")],
        [V, INS, PER, "20261115", PLAN_DAY, q(""), "", "", "", q("起床"), "0700", "0730", q("")],
        [V, INS, PER, "20261115", PLAN_DAY, q(""), "", "", "", q(""), "", "", q("福祉用具貸与（歩行器）")],
    ],
    f"UPHOSOKU_000000_{CM}_{NS}_20261120093000.CSV": [hosoku("000000", PLAN_DAY)],
    # 第6・7表 + 補足 (stamp 20261120093100)
    f"UPPLAN_202612_{CM}_{NS}_20261120093100.CSV": [
        [V, INS, PER, "20261120", "202612", "1234567890", q("介護 次郎"), "000821", "", "20261201", "",
         "1000", "1100", "01", "131111", "", "", q(""), "", "2234567890", q("㈱さくら訪問看護ステーション"), "",
         "0", "1234567890", ""],
        [V, INS, PER, "20261120", "202612", "1234567890", q("介護 次郎"), "000821", "", "20261204",
         "1111100000000000000000000000000", "1000", "1100", "01", "131111", "", "", q(""), "", "2234567890",
         q("㈱さくら訪問看護ステーション"), "", "0", "1234567890", ""],
        [V, INS, PER, "20261120", "202612", "1234567890", q("介護 次郎"), "000100", "", "20261201", "",
         "9999", "9999", "01", "171001", "000123000456", "", q("歩行器①型"), "", "2234567890",
         q("㈱さくら訪問看護ステーション"), "", "0", "1234567890", ""],
    ],
    # Item 34 事業所コード 「9999999999を固定でセット」 (see layout.rs for why 34, not 35).
    f"UPSIKYU_202612_{CM}_{NS}_20261120093100.CSV": [
        [V, INS, PER, "20261120", "202612", q("㈱さくら訪問看護ステーション"), "2234567890", "", "131111", "", "",
         q(""), "000821", "", "", "008", "", "006568", "", "006568", "", "006568", "11.40", "074875", "90",
         "067387", "", "007488", "0", "", "", "", "0", "9999999999", "", "1234567890", ""],
        [V, INS, PER, "20261120", "202612", q("㈱さくら訪問看護ステーション"), "2234567890", "", "13AAAA", "", "",
         q(""), "0", "", "", "008", "", "006568", "", "006568", "", "006568", "", "", "", "", "", "", "", "", "",
         "", "0", "9999999999", "", "1234567890", ""],
        [V, INS, PER, "20261120", "202612", q("㈱さくら訪問看護ステーション"), "2234567890", "", "171001",
         "000123000456", "", q("歩行器①型"), "000100", "", "", "001", "", "000100", "", "000100", "",
         "000100", "10.00", "001000", "90", "000900", "", "000100", "0", "", "", "", "0", "9999999999", "",
         "1234567890", ""],
        [V, INS, PER, "20261120", "202612", q(""), "9999999999", "", "999999", "", "", q(""), "0", "", "",
         "000", "", "006668", "", "006668", "", "006668", "", "075875", "", "068287", "", "007588", "0", "",
         "", "", "0", "9999999999", "", "1234567890", ""],
    ],
    f"UPHOSOKU_202612_{CM}_{NS}_20261120093100.CSV": [hosoku("202612", "00000000")],
    # Deletions
    f"DLT1KYO_{CM}_{NS}_20261125080000.CSV": [[V, INS, PER, PLAN_DAY]],
    f"DLTPLAN_202612_{CM}_{NS}_20261125080100.CSV": [[V, INS, PER, "202612"]],
    # 実績 back from the home-nursing office
    f"UPJSK_202612_{NS}_{CM}_20270105100000.CSV": [
        [V, INS, PER, "20270105", "202612", "1234567890", q("介護 次郎"), "000821", "", "20261201", "",
         "1000", "1100", "01", "131111", "", "", q(""), "", "2234567890", q("㈱さくら訪問看護ステーション"), "",
         "0", "2234567890", ""],
    ],
    f"DLTJSK_202612_{NS}_{CM}_20270106100000.CSV": [[V, INS, PER, "202612", "2234567890", "13"]],
}

# 第6・7表 + 補足 for two people in one transmission (仕様 2.6: 「各ファイルに含める利用者は任意とする」):
# each person has their own 種類別小計 and 全合計 rows. 髙橋 花子 as above; the second person
# (被保険者 0987654321) has two 訪問看護 rows (two service codes) with their 13AAAA subtotal and one 通所介護 row.
# Written to multi-person/ so the single-person set above stays one transmission per kind.
PER2, MULTI = "0987654321", "20261121093100"


def plan_row(per, day, service, office, office_name):
    return [V, INS, per, "20261120", "202612", "1234567890", q("介護 次郎"), "000821", "", day, "",
            "1000", "1100", "01", service, "", "", q(""), "", office, q(office_name), "", "0", "1234567890", ""]


def sikyu_row(per, office_name, office, code, units, count, total):
    return [V, INS, per, "20261120", "202612", q(office_name), office, "", code, "", "", q(""), units, "", "",
            count, "", total, "", total, "", total, "", "", "", "", "", "", "", "", "", "", "0", "",
            "9999999999", "1234567890", ""]


NURSE, DAY = "㈱さくら訪問看護ステーション", "㈱さくらデイサービス"
multi = {
    f"UPPLAN_202612_{CM}_{NS}_{MULTI}.CSV": files[f"UPPLAN_202612_{CM}_{NS}_20261120093100.CSV"] + [
        plan_row(PER2, "20261202", "131111", "2234567890", NURSE),
        plan_row(PER2, "20261209", "132111", "2234567890", NURSE),
        plan_row(PER2, "20261203", "151111", "3234567890", DAY),
    ],
    f"UPSIKYU_202612_{CM}_{NS}_{MULTI}.CSV": files[f"UPSIKYU_202612_{CM}_{NS}_20261120093100.CSV"] + [
        sikyu_row(PER2, NURSE, "2234567890", "131111", "000821", "001", "000821"),
        sikyu_row(PER2, NURSE, "2234567890", "132111", "000821", "001", "000821"),
        sikyu_row(PER2, NURSE, "2234567890", "13AAAA", "0", "002", "001642"),
        sikyu_row(PER2, DAY, "3234567890", "151111", "000655", "001", "000655"),
        sikyu_row(PER2, "", "9999999999", "999999", "0", "000", "002297"),
    ],
    f"UPHOSOKU_202612_{CM}_{NS}_{MULTI}.CSV": [hosoku("202612", "00000000"), hosoku("202612", "00000000", PER2)],
}
(HERE / "multi-person").mkdir(exist_ok=True)
for name, rows in multi.items():
    write(f"multi-person/{name}", rows)

for name, rows in files.items():
    write(name, rows)
print(f"wrote {len(files)} + {len(multi)} files")

# 介護予防 (仕様 3): the 地域包括支援センター (3334567890, type 46) sends to a 通所型サービス (総合事業)
# office (4434567890, type A6); the person is 佐藤 太郎 (被保険者 0223456789). One transmission
# (3.4 (2)) holds 介護予防サービス・支援計画書 + 別表 and 利用者基本情報 + 別表1 + 別表2 + 家族構成画像;
# then a plan deletion and a basic-information deletion, each its own transmission. Written to
# yobo/ so the 居宅 sets above stay as they are.
HC, DS, YPER = "3334567890_46", "4434567890_A6", "0223456789"
YSTAMP, SODAN, YPLAN = "20261201100000", "20261110", "20261115"
IMAGE = f"UPKIHON_IMAGE_{HC}_{DS}_{YSTAMP}_0001.JPG"


def tiny_jpeg(width, height):
    """SOI, APP0 (JFIF), a baseline SOF0, SOS, one byte of scan data, EOI: the smallest bytes
    the JPEG check accepts (the pixels are not decoded)."""
    return (b"\xff\xd8" + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            + b"\xff\xc0\x00\x0b\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x01\x01\x11\x00"
            + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x12\xff\xd9")


kihon = [V, INS, YPER, SODAN, "1", "2", q("包括 三郎"), "01", q(""), "01", "", "01", q(""), q("ｻﾄｳ ﾀﾛｳ"),
         q("佐藤 太郎"), "1", "19400505", q("千葉県流山市平和台3-3-3"), "04-7158-3333", "", "12", "02", "12",
         "20260401", "20270331", "01", "1", "20261101", "0", "0", "0", "0", q(""), "03", "1", "2", "1", "0", "0",
         "0", q("年金で生活"), q("佐藤 花子"), q("同上"), "04-7158-3333", q("妻"), q("佐藤 一郎"), q("長男"),
         q("東京都江東区1-1"), "03-0000-0000"] + [q(""), q(""), q(""), ""] * 3 + [
         q(IMAGE), q("妻と二人暮らし。長男は都内在住"), q("元会社員、\"囲碁\"が趣味"), q("朝は散歩、\r\n午後は読書"),
         q("囲碁"), q("町内会の囲碁クラブ"), q(""), q("配食サービス（週3回）"), "20261115", q("佐藤 太郎")]
assert len(kihon) == 71, len(kihon)
yobo = [V, INS, YPER, YPLAN, "1", "1", q("A-001"), q("佐藤 太郎"), "20260401", "20260401", "20270331", "11", "2",
        "1", q("包括 三郎"), q(""), q("流山市地域包括支援センター"), q("千葉県流山市平和台4-4-4"), "04-7158-5555",
        YPLAN, q("流山市地域包括支援センター"), q("毎朝散歩する"), q("囲碁大会に出る"),
        q("膝の痛みで長く歩けない"), q("散歩を続けたい"), "1", q("下肢筋力の低下"),
        q(""), q(""), "2", q(""), q(""), q(""), "2", q(""),
        q("血圧が高め"), q("薬を忘れずに飲みたい"), "1", q("服薬の管理"),
        q("血圧の変動に注意"), q(""), q("運動機能の維持を中心に支援します。"),
        "3", "0", "1", "0", "0", "0", "1", "2", "2", "2", "2", "2", q(""), YPLAN, q("佐藤 太郎")]
assert len(yobo) == 57, len(yobo)
yobo_files = {
    f"UPYOBO_{HC}_{DS}_{YSTAMP}.CSV": [yobo],
    f"UPYOBO_SUB_{HC}_{DS}_{YSTAMP}.CSV": [
        [V, INS, YPER, YPLAN, q("1"), q("膝の痛みで歩行が不安定"), q("通所で筋力をつける"), q("週1回なら通える"),
         q("30分続けて歩ける"), q("1"), q("下肢筋力の向上"), q("自宅での体操"), q("通所型サービス"), q("1"),
         q("通所型サービス（独自）"), q("〇〇デイサービス"), q("6カ月間")],
        [V, INS, YPER, YPLAN, q("1"), q(""), q(""), q(""), q(""), q("2"), q("転倒の予防"), q(""), q(""), q("1"),
         q("通所型サービス（独自）"), q("〇〇デイサービス"), q("6カ月間")],
    ],
    f"UPKIHON_{HC}_{DS}_{YSTAMP}.CSV": [kihon],
    f"UPKIHON_SUB1_{HC}_{DS}_{YSTAMP}.CSV": [
        [V, INS, YPER, SODAN, q("6:00"), q("起床"), q("")],
        [V, INS, YPER, SODAN, q("7:30"), q("朝食"), q("妻も実施")],
    ],
    f"UPKIHON_SUB2_{HC}_{DS}_{YSTAMP}.CSV": [
        [V, INS, YPER, SODAN, q("R2年4月"), q("高血圧症"), q("平和台クリニック 山田医師"), "1", "04-7158-4444", "01",
         q("降圧剤を服用")],
    ],
    f"DLTYOBO_{HC}_{DS}_20261202100000.CSV": [[V, INS, YPER, YPLAN]],
    f"DLTKIHON_{HC}_{DS}_20261202100100.CSV": [[V, INS, YPER, SODAN]],
}
(HERE / "yobo").mkdir(exist_ok=True)
for name, rows in yobo_files.items():
    write(f"yobo/{name}", rows)
(HERE / "yobo" / IMAGE).write_bytes(tiny_jpeg(320, 240))
print(f"wrote {len(yobo_files)} + 1 介護予防 files")
